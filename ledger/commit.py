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


# --- Memory (internal: no business record changes, nothing leaves the workspace) ---------------


class MemoryStorePayload(BaseModel):
    source: str
    id: int
    kind: str
    tier: str
    client: int | None = None
    project: int | None = None
    importance: float = Field(default=0.5, ge=0, le=1)
    chunks: list[str] = Field(min_length=1)


@committer("memory.store")
def memory_store(action: Action, task: Task) -> dict[str, Any]:
    from core.memory.capture import source_get
    from core.memory.services import memory_store_chunks
    from core.models import Client, Project

    payload = MemoryStorePayload.model_validate(action.payload)
    record = source_get(label=payload.source, pk=payload.id)
    if record is None:
        return {"skipped": f"{payload.source} #{payload.id} was deleted before it was remembered"}
    stored = memory_store_chunks(
        chunks=payload.chunks,
        kind=payload.kind,
        tier=payload.tier,
        client=Client.objects.filter(pk=payload.client).first() if payload.client else None,
        project=Project.objects.filter(pk=payload.project).first() if payload.project else None,
        source=record,
        source_task=task,
        importance=payload.importance,
    )
    return stored.as_dict()


class MemoryCompressPayload(BaseModel):
    items: list[int] = Field(min_length=1)
    summary: str = Field(min_length=1)


@committer("memory.compress")
def memory_compress(action: Action, task: Task) -> dict[str, Any]:
    from core.memory.services import memory_compress as compress

    payload = MemoryCompressPayload.model_validate(action.payload)
    summary, superseded = compress(item_ids=payload.items, summary=payload.summary, source_task=task)
    return {"summary": summary.pk if summary else None, "superseded": superseded}


class MemorySweepPayload(BaseModel):
    now: str
    retention: dict[str, int] = {}


def _sweep_now(payload: MemorySweepPayload):
    from django.utils.dateparse import parse_datetime

    now = parse_datetime(payload.now)
    if now is None:
        raise ValidationError({"now": f"not a timestamp: {payload.now!r}"})
    return now


@committer("memory.expire")
def memory_expire(action: Action, task: Task) -> dict[str, Any]:
    from core.memory.services import memory_expire as expire

    payload = MemorySweepPayload.model_validate(action.payload)
    return {"deleted": expire(now=_sweep_now(payload))}


@committer("memory.retain")
def memory_retain(action: Action, task: Task) -> dict[str, Any]:
    from core.memory.services import memory_retain as retain
    from core.memory.services import retention_rules

    payload = MemorySweepPayload.model_validate(action.payload)
    rules = retention_rules(",".join(f"{key}={days}" for key, days in payload.retention.items()))
    return {"deleted": retain(now=_sweep_now(payload), rules=rules)}
