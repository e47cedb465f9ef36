"""Committers: what each action kind does when the ledger commits it.

Each committer runs inside the commit transaction of its action (with the task row locked and our
claim verified) and returns a JSON result. Canonical changes go through `core.services` under
`history_reason("task …")`, so the history names the task. External effects only write an outbox row;
delivery happens after the commit (ledger.outbox).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from pydantic import BaseModel, EmailStr, Field
from pydantic import ValidationError as PydanticValidationError

from core import services as core_services
from ledger.models import Action, OutboxEmail, Task

Committer = Callable[[Action, Task], dict[str, Any]]
_COMMITTERS: dict[str, Committer] = {}


def committer(kind: str) -> Callable[[Committer], Committer]:
    def register(function: Committer) -> Committer:
        _COMMITTERS[kind] = function
        return function

    return register


def committer_exists(kind: str) -> bool:
    return kind in _COMMITTERS


def action_commit(*, action: Action, task: Task) -> dict[str, Any]:
    with core_services.history_reason(f"task {task.pk} ({task.workflow})"):
        return _COMMITTERS[action.kind](action, task)


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


@committer("email.send")
def email_send(action: Action, task: Task) -> dict[str, Any]:
    try:
        payload = EmailPayload.model_validate(action.payload)
    except PydanticValidationError as exc:
        raise ValidationError(f"email.send payload is invalid: {exc}") from None
    email, _ = OutboxEmail.objects.get_or_create(
        action=action,
        defaults={
            "message_id": message_id_for(action.idempotency_key),
            "from_email": settings.DEFAULT_FROM_EMAIL,
            "to": [str(address).lower() for address in payload.to],
            "cc": [str(address).lower() for address in payload.cc],
            "subject": payload.subject.replace("\r", " ").replace("\n", " "),
            "body_text": payload.body,
            "in_reply_to": payload.in_reply_to,
            "references": payload.references,
        },
    )
    return {"outbox_email": email.pk, "message_id": email.message_id}


class DecisionPayload(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    rationale: str = ""
    client_id: int | None = None
    project_id: int | None = None


@committer("decision.record")
def decision_record(action: Action, task: Task) -> dict[str, Any]:
    from core.models import Client, Project

    payload = DecisionPayload.model_validate(action.payload)
    decision = core_services.decision_record(
        by=None,
        title=payload.title,
        rationale=payload.rationale,
        client=Client.objects.get(pk=payload.client_id) if payload.client_id else None,
        project=Project.objects.get(pk=payload.project_id) if payload.project_id else None,
    )
    return {"decision": decision.pk}
