"""The registered workflows, pinned: how they are declared may change, what the registry holds may not."""

from agents import kernel

WORKFLOWS = {
    "approvals.digest": {
        "steps": (("digest", "approval_digest"),),
        "description": "Each day: what waits for the operator's approval and what was dead-lettered.",
        "input_schema": "DigestInput",
        "max_attempts": None,
        "critical": True,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "client.erase": {
        "steps": (("inventory", "client_eraser"),),
        "description": (
            "Remove or anonymise one client's personal data (issued invoices and payments are kept)."
        ),
        "input_schema": "ClientDataInput",
        "max_attempts": 5,
        "critical": True,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "client.export": {
        "steps": (("inventory", "client_exporter"),),
        "description": "Everything about one client as a zip of JSON and files, once the operator approves.",
        "input_schema": "ClientDataInput",
        "max_attempts": 3,
        "critical": True,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "email.send": {
        "steps": (("compose", "mail_composer"),),
        "description": "Compose an email (from a template or given text) and send it once approved.",
        "input_schema": "MailInput",
        "max_attempts": None,
        "critical": False,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "intake.process": {
        "steps": (
            ("read", "intake_reader"),
            ("extract", "intake"),
            ("route", "coordinator"),
            ("estimate", "estimator"),
            ("write", "proposal_writer"),
        ),
        "description": (
            "An inbound mail: read its new text, extract the fields, route by intent, estimate, and "
            "write the proposal (or a change brief, a draft reply, a review item) for approval."
        ),
        "input_schema": "ReadInput",
        "max_attempts": None,
        "critical": True,
        "scope_message_key": "message_id",
        "scope_client_key": "",
    },
    "invoice.remind": {
        "steps": (("write", "reminder_writer"),),
        "description": (
            "Draft one client's payment reminders the receivables sweep found due, each for approval."
        ),
        "input_schema": "RemindInput",
        "max_attempts": None,
        "critical": False,
        "scope_message_key": "",
        "scope_client_key": "client_id",
    },
    "invoice.send": {
        "steps": (("write", "invoice_sender"),),
        "description": "Issue (if a draft) and email an invoice with its PDF to its client, for approval.",
        "input_schema": "SendInput",
        "max_attempts": None,
        "critical": False,
        "scope_message_key": "",
        "scope_client_key": "client_id",
    },
    "ledger.ping": {
        "steps": (("echo", "echo"),),
        "description": "A no-op round trip through the ledger, for health checks and benchmarks.",
        "input_schema": "PingInput",
        "max_attempts": None,
        "critical": False,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "memory.capture": {
        "steps": (("read", "memory_reader"),),
        "description": "Remember what a record says: chunk it, embed it, store it once per subject.",
        "input_schema": "CaptureInput",
        "max_attempts": None,
        "critical": False,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "memory.compress": {
        "steps": (("summarise", "thread_summariser"), ("file", "memory_compactor")),
        "description": "Summarise a subject's old working memories into one item that supersedes them.",
        "input_schema": "CompressInput",
        "max_attempts": None,
        "critical": False,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "memory.maintain": {
        "steps": (("sweep", "memory_janitor"),),
        "description": "Delete memories whose time is up: expired session items, and what retention says.",
        "input_schema": "MaintainInput",
        "max_attempts": None,
        "critical": False,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "notice.operator": {
        "steps": (("write", "operator_notice"),),
        "description": "A notice to the operator's own address (a budget reached, …).",
        "input_schema": "NoticeInput",
        "max_attempts": None,
        "critical": True,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "payment.propose": {
        "steps": (("propose", "payment_proposer"),),
        "description": "A received payment, matched to invoices, proposed for the operator to record.",
        "input_schema": "PaymentProposal",
        "max_attempts": None,
        "critical": True,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "record.revert": {
        "steps": (("revert", "record_reverter"),),
        "description": "Put records back as they were before a committed change (asked from the task page).",
        "input_schema": "RevertInput",
        "max_attempts": 1,
        "critical": True,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "report.daily_cost": {
        "steps": (("report", "cost_reporter"),),
        "description": "One day's LLM spend per agent and model (run each night by the schedule).",
        "input_schema": "CostReportInput",
        "max_attempts": None,
        "critical": False,
        "scope_message_key": "",
        "scope_client_key": "",
    },
    "text.summarise": {
        "steps": (("summarise", "thread_summariser"),),
        "description": "Summarise a text (an email thread, notes) with the fast model, or offline by rules.",
        "input_schema": "SummariseInput",
        "max_attempts": None,
        "critical": False,
        "scope_message_key": "",
        "scope_client_key": "",
    },
}


def _declared_by_a_test(workflow: kernel.Workflow) -> bool:
    # Test modules register workflows of their own (named test.…) once they are imported.
    return workflow.name.startswith("test.")


def test_the_registry_holds_exactly_the_declared_workflows():
    registered = {
        workflow.name: {
            "steps": tuple((step.name, step.agent) for step in workflow.steps),
            "description": workflow.description,
            "input_schema": workflow.input_schema.__name__,
            "max_attempts": workflow.max_attempts,
            "critical": workflow.critical,
            "scope_message_key": workflow.scope_message_key,
            "scope_client_key": workflow.scope_client_key,
        }
        for workflow in kernel.workflows_all()
        if not _declared_by_a_test(workflow)
    }

    assert registered == WORKFLOWS
