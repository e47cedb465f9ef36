"""`email.send`: an email leaves through the outbox (delivered after the commit, exactly once)."""

from __future__ import annotations

import hashlib
from email.utils import formataddr
from typing import Any

from django.conf import settings
from pydantic import BaseModel, EmailStr, Field

from core import selectors as core_selectors
from ledger.commit.registry import EXTERNAL, committer
from ledger.models import Action, OutboxEmail, Task


def message_id_for(key: str) -> str:
    """A stable Message-ID for an action: the same action always yields the same id."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "aios.local"
    return f"<{digest}@{domain}>"


class EmailPayload(BaseModel):
    to: list[EmailStr] = Field(min_length=1)
    cc: list[EmailStr] = []
    subject: str = Field(min_length=1, max_length=998)
    body: str
    in_reply_to: str = ""
    references: str = ""
    # The conversation the email belongs to: once sent, it is recorded there as an outbound message.
    conversation_id: int | None = None


def sender_address() -> str:
    """Mail goes out from the operator's own address (with their name) once the workspace has one."""
    workspace = core_selectors.workspace_get()
    if workspace is None or not workspace.operator_email:
        return settings.DEFAULT_FROM_EMAIL
    return formataddr((workspace.operator_name or "", workspace.operator_email))


@committer("email.send", effect=EXTERNAL, irreversible_note="A sent email cannot be unsent.")
def commit_email_send(payload: EmailPayload, action: Action, task: Task) -> dict[str, Any]:
    email = outbox_email_for(action, payload)
    return {"outbox_email": email.pk, "message_id": email.message_id}


def outbox_email_for(action: Action, payload: EmailPayload) -> OutboxEmail:
    email, _ = OutboxEmail.objects.get_or_create(
        action=action,
        defaults={
            "message_id": message_id_for(action.idempotency_key),
            "from_email": sender_address(),
            "to": [str(address).lower() for address in payload.to],
            "cc": [str(address).lower() for address in payload.cc],
            "subject": payload.subject.replace("\r", " ").replace("\n", " "),
            "body_text": payload.body,
            "in_reply_to": payload.in_reply_to,
            "references": payload.references,
        },
    )
    return email
