"""The workflows of the workspace, declared in code. Imported when the agents app is ready."""

from agents import (
    coordinator,
    estimator,
    intake,
    mail,
    memory,
    operator,
    proposal_writer,
    summariser,
)
from agents.kernel import Step, Workflow, workflow_register

EMAIL_SEND = workflow_register(
    Workflow(
        name="email.send",
        description="Compose an email (from a template or given text) and send it once approved.",
        steps=(Step(name="compose", agent=mail.MailComposer.name),),
        input_schema=mail.MailInput,
    )
)

LEDGER_PING = workflow_register(
    Workflow(
        name="ledger.ping",
        description="A no-op round trip through the ledger, for health checks and benchmarks.",
        steps=(Step(name="echo", agent=mail.Echo.name),),
        input_schema=mail.PingInput,
    )
)

TEXT_SUMMARISE = workflow_register(
    Workflow(
        name="text.summarise",
        description="Summarise a text (an email thread, notes) with the fast model, or offline by rules.",
        steps=(Step(name="summarise", agent=summariser.ThreadSummariser.name),),
        input_schema=summariser.SummariseInput,
    )
)

MEMORY_CAPTURE = workflow_register(
    Workflow(
        name="memory.capture",
        description="Remember what a record says: chunk it, embed it, store it once per subject.",
        steps=(Step(name="read", agent=memory.MemoryReader.name),),
        input_schema=memory.CaptureInput,
    )
)


def _compress_summarise_input(workflow_input, outputs):
    items = [memory.CompressItem.model_validate(item) for item in workflow_input["items"]]
    return {
        "text": memory.compress_text(items),
        "max_sentences": memory.compress_sentences(len(items)),
        "central_by": "meaning",
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

NOTICE_OPERATOR = workflow_register(
    Workflow(
        name="notice.operator",
        description="A notice to the operator's own address (a budget reached, …).",
        steps=(Step(name="write", agent=operator.OperatorNotice.name),),
        input_schema=operator.NoticeInput,
        critical=True,
    )
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
        "client_id": read["client_id"],
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
    )
)
