"""What happens to a newly imported inbound message: it is handed to the intake workflow as a ledger task.

Called by `connectors.services` after the import committed. The workflow ("intake.process") is declared in
agents/; until it is registered, imported mail simply waits as canonical messages. The raw mail is parsed
here and its parts go in the task's input, so the agents never read connector data themselves.
"""

from __future__ import annotations

from typing import Any

from agents import kernel
from connectors import selectors as connector_selectors
from connectors.mime import ParsedMail, parse_message
from core import selectors as core_selectors
from core.models import Message
from ledger import services as ledger_services

INTAKE_WORKFLOW = "intake.process"
REQUESTED_BY = "connector:email"


def mail_parts(parsed: ParsedMail) -> dict[str, Any] | None:
    """The new text, flags, headers and date of a parsed mail; None when it cannot be read (the intake
    reader then reads the stored body)."""
    if parsed.fatal:
        return None
    return {
        "new_text": parsed.new_text or parsed.text,
        "quoted_text": parsed.quoted_text,
        "is_auto_reply": parsed.is_auto_reply,
        "is_bounce": parsed.is_bounce,
        "is_calendar": parsed.is_calendar,
        "is_image_only": parsed.is_image_only,
        "headers": dict(parsed.headers),
        "date": parsed.date.isoformat() if parsed.date else None,
    }


def _kept_mail_parts(*, message_pk: int) -> dict[str, Any] | None:
    raw = connector_selectors.raw_for_message(message_pk=message_pk)
    return None if raw is None else mail_parts(parse_message(raw))


def intake_submit(*, message_pk: int, parsed: ParsedMail | None = None) -> None:
    """Submit the intake task of one inbound message; its Message-ID is the key, so a repeat is a no-op.

    The importer passes the mail it just parsed; without it the kept raw mail is parsed again."""
    try:
        kernel.workflow_get(INTAKE_WORKFLOW)
    except kernel.RegistryError:
        return
    try:
        message = core_selectors.message_for_intake(message_pk=message_pk)
    except Message.DoesNotExist:
        return
    workflow_input: dict[str, Any] = {"message_id": message.pk}
    mail = mail_parts(parsed) if parsed is not None else _kept_mail_parts(message_pk=message.pk)
    if mail is not None:
        workflow_input["mail"] = mail
    ledger_services.task_submit(
        workflow=INTAKE_WORKFLOW,
        input=workflow_input,
        idempotency_key=f"intake:{message.message_id}",
        requested_by=REQUESTED_BY,
    )
