"""The workflows of the workspace, declared in code. Imported when the agents app is ready."""

from agents import (
    coordinator,
    estimator,
    intake,
    invoice_sender,  # noqa: F401 - registers invoice.send (declared next to its agent)
    mail,
    memory,
    operator,
    payments,  # noqa: F401 - registers payment.propose (declared next to its agent)
    proposal_writer,
    reminders,
    summariser,
)
from agents.kernel import Step, Workflow, workflow_one_step, workflow_register

EMAIL_SEND = workflow_one_step(
    name="email.send",
    step="compose",
    agent=mail.MailComposer,
    description="Compose an email (from a template or given text) and send it once approved.",
)

LEDGER_PING = workflow_one_step(
    name="ledger.ping",
    step="echo",
    agent=mail.Echo,
    description="A no-op round trip through the ledger, for health checks and benchmarks.",
)

TEXT_SUMMARISE = workflow_one_step(
    name="text.summarise",
    step="summarise",
    agent=summariser.ThreadSummariser,
    description="Summarise a text (an email thread, notes) with the fast model, or offline by rules.",
)

MEMORY_CAPTURE = workflow_one_step(
    name="memory.capture",
    step="read",
    agent=memory.MemoryReader,
    description="Remember what a record says: chunk it, embed it, store it once per subject.",
)


def _compress_summarise_input(workflow_input, outputs):
    items = [memory.CompressItem.model_validate(item) for item in workflow_input["items"]]
    return {
        "text": memory.compress_text(items),
        "max_sentences": memory.compress_sentences(len(items)),
        "central_by": "meaning",
        # Each memory goes to a model as its own data block, with its origin and trust.
        "sources": [
            {"text": item.text, "origin": item.origin or f"memory {item.id}", "untrusted": item.untrusted}
            for item in items
        ],
    }


def _compress_file_input(workflow_input, outputs):
    summary = outputs["summarise"]
    return {
        "items": workflow_input["items"],
        "summary": summary["summary"],
        "key_points": summary["key_points"],
    }


MEMORY_COMPRESS = workflow_register(
    Workflow(
        name="memory.compress",
        description="Summarise a subject's old working memories into one item that supersedes them.",
        steps=(
            Step(name="summarise", agent=summariser.ThreadSummariser.name, input=_compress_summarise_input),
            Step(name="file", agent=memory.MemoryCompactor.name, input=_compress_file_input),
        ),
        input_schema=memory.CompressInput,
    )
)

INVOICE_REMIND = workflow_one_step(
    name="invoice.remind",
    step="write",
    agent=reminders.ReminderWriter,
    description="Draft one client's payment reminders the receivables sweep found due, each for approval.",
    scope_client_key="client_id",
)

NOTICE_OPERATOR = workflow_one_step(
    name="notice.operator",
    step="write",
    agent=operator.OperatorNotice,
    description="A notice to the operator's own address (a budget reached, …).",
    critical=True,
)


def _intake_extract_input(workflow_input, outputs):
    read = outputs["read"]
    return {
        "from_email": read["from_email"],
        "from_name": read["from_name"],
        "subject": read["subject"],
        "date": read["date"],
        "new_text": read["new_text"],
        "quoted_text": read["quoted_text"],
        "is_auto_reply": read["is_auto_reply"],
        "is_bounce": read["is_bounce"],
        "headers": read.get("headers") or {},
        "services": read["services"],
        "invoice_prefix": read.get("invoice_prefix") or "",
    }


def _intake_estimate_input(workflow_input, outputs):
    read, fields = outputs["read"], outputs["extract"]
    budget = fields.get("budget") or {}
    return {
        "route": outputs["route"]["route"],
        "services": fields.get("services") or [],
        "text": read["new_text"],
        "budget_amount": budget.get("amount"),
        "budget_currency": budget.get("currency") or "",
        "rules": read["services"],
    }


INTAKE_PROCESS = workflow_register(
    Workflow(
        name="intake.process",
        description=(
            "An inbound mail: read its new text, extract the fields, route by intent, estimate, and "
            "write the proposal (or a change brief, a draft reply, a review item) for approval."
        ),
        steps=(
            Step(name="read", agent=intake.IntakeReader.name),
            Step(name="extract", agent=intake.IntakeAgent.name, input=_intake_extract_input),
            Step(
                name="route",
                agent=coordinator.Coordinator.name,
                input=lambda workflow_input, outputs: {"read": outputs["read"], "intake": outputs["extract"]},
            ),
            Step(name="estimate", agent=estimator.Estimator.name, input=_intake_estimate_input),
            Step(
                name="write",
                agent=proposal_writer.ProposalWriter.name,
                input=lambda workflow_input, outputs: {
                    "read": outputs["read"],
                    "intake": outputs["extract"],
                    "route": outputs["route"],
                    "estimate": outputs["estimate"],
                },
            ),
        ),
        input_schema=intake.ReadInput,
        # The value stream: over a budget it keeps going on the rules rather than waiting.
        critical=True,
        # Every step reads records as the mail's sender's client may see them (core.scope).
        scope_message_key="message_id",
    )
)
