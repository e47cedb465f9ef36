"""The intake reader: a stored inbound message as the intake agent reads it, the new text of the mail
(quoted history and forwarded blocks apart), its headers and the workspace's service catalogue.

The connector that submits the task parsed the raw mail and hands its parts over in the input
(the intake hook); without them (no raw mail kept, or none readable) the stored body is read. The message
is read through the step's client scope (the scope was built from it), and the client the rest of the
workflow works for is the scope's — the sender's own client, or none — not whatever thread the mail
claims to belong to.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from agents.kernel import Agent, AgentContext, AgentResult, NeedsReview, agent_register
from core import workspace_data


class MailParts(BaseModel):
    """The parts of the raw mail the connector parsed: its new text apart from the quoted history."""

    new_text: str
    quoted_text: str
    is_auto_reply: bool
    is_bounce: bool
    # Defaults: inputs recorded before these flags existed replay unchanged.
    is_calendar: bool = False
    is_image_only: bool = False
    headers: dict[str, str]
    date: str | None  # ISO 8601 from the Date header, with its offset


class ReadInput(BaseModel):
    message_id: int  # core.Message primary key
    mail: MailParts | None = None


class ServiceEntry(BaseModel):
    key: str
    name: str
    description: str = ""
    unit: str = ""
    unit_price: str = ""
    currency: str = ""
    min_units: str = "1"


class MailRead(BaseModel):
    message_pk: int
    conversation_id: int
    client_id: int | None  # the client scope's: the sender's own client, None for a stranger
    scope_reason: str = ""
    message_id: str
    references: str
    received_at: str
    from_email: str
    from_name: str
    subject: str
    date: str | None
    new_text: str
    quoted_text: str
    is_auto_reply: bool
    is_bounce: bool
    is_calendar: bool = False  # a calendar invitation (text/calendar part or .ics file)
    is_image_only: bool = False  # images and no text
    headers: dict[str, str] = {}
    services: list[ServiceEntry]
    invoice_prefix: str = ""  # the workspace's: invoice numbers in its format are ours


def _split(message: Any, mail: MailParts | None) -> dict[str, Any]:
    """New text and flags from the parsed raw mail when the connector gave them, else from the stored body
    of `message` (the scope's trigger message)."""
    if mail is not None:
        return mail.model_dump()
    return {
        "new_text": message.body_text,
        "quoted_text": "",
        "is_auto_reply": False,
        "is_bounce": False,
        "date": message.sent_at.isoformat() if message.sent_at else None,
    }


@agent_register
class IntakeReader(Agent):
    name = "intake_reader"
    version = "1"
    description = "Reads an inbound message: its new text apart from quoted history, and the catalogue."

    def run(self, ctx: AgentContext, input: ReadInput) -> AgentResult[MailRead]:  # noqa: A002
        scope = ctx.client_scope("The intake reader")
        message = scope.trigger_message()
        if message.pk != input.message_id:
            raise NeedsReview(f"Message {input.message_id} is not the one this work was started by.")
        parts = _split(message, input.mail)
        own = f"<{message.message_id}>" if message.message_id else ""
        references = " ".join(part for part in (message.references, own) if part)
        return AgentResult(
            output=MailRead(
                message_pk=message.pk,
                conversation_id=message.conversation_id,
                client_id=scope.client_id,
                scope_reason=scope.reason,
                message_id=f"<{message.message_id}>" if message.message_id else "",
                references=references,
                received_at=message.created_at.isoformat(),
                from_email=message.from_email,
                from_name=message.from_name,
                subject=message.subject,
                services=[ServiceEntry(**entry) for entry in workspace_data.service_catalogue()],
                invoice_prefix=workspace_data.workspace_terms()["invoice_prefix"],
                **parts,
            )
        )
