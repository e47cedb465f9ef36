"""Committers: what each action kind does when the ledger commits it.

Each committer runs inside the commit transaction of its action (with the task row locked and our
claim verified) and returns a JSON result. Canonical changes go through `core.services` under
`history_reason("task …")`, so the history names the task. External effects only write an outbox row;
delivery happens after the commit (ledger.outbox).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from pydantic import BaseModel, EmailStr, Field
from pydantic import ValidationError as PydanticValidationError

from core import services as core_services
from ledger.models import Action, OutboxEmail, Task

Committer = Callable[[Action, Task], dict[str, Any]]


@dataclass(frozen=True)
class Registered:
    function: Committer
    effect: str  # ledger.policy effect class: internal, record, money, external, delete
    payload: type[BaseModel] | None  # validates the payload (and the operator's edits of it)
    # A record change can be reverted from the task page; sent email, deletions and money changes cannot.
    reversible: bool = False
    irreversible_note: str = ""


_COMMITTERS: dict[str, Registered] = {}


def committer(
    kind: str,
    *,
    effect: str,
    payload: type[BaseModel] | None = None,
    reversible: bool = False,
    irreversible_note: str = "",
) -> Callable[[Committer], Committer]:
    def register(function: Committer) -> Committer:
        _COMMITTERS[kind] = Registered(function, effect, payload, reversible, irreversible_note)
        return function

    return register


def committer_exists(kind: str) -> bool:
    return kind in _COMMITTERS


def committer_effect(kind: str) -> str | None:
    registered = _COMMITTERS.get(kind)
    return registered.effect if registered else None


def committer_kinds() -> list[str]:
    return sorted(_COMMITTERS)


def committer_reversible(kind: str) -> bool:
    registered = _COMMITTERS.get(kind)
    return bool(registered and registered.reversible)


def committer_irreversible_note(kind: str) -> str:
    registered = _COMMITTERS.get(kind)
    if registered is None or registered.reversible:
        return ""
    return registered.irreversible_note or "This effect cannot be reverted from here."


def payload_validate(*, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as its committer will read it, or a ValidationError naming each bad field."""
    registered = _COMMITTERS.get(kind)
    if registered is None:
        raise ValidationError({"kind": f"No committer knows how to carry out {kind!r}."})
    if registered.payload is None:
        return dict(payload)
    try:
        return registered.payload.model_validate(payload).model_dump(mode="json")
    except PydanticValidationError as exc:
        raise ValidationError(
            {
                ".".join(str(part) for part in error["loc"]) or "payload": error["msg"]
                for error in exc.errors(include_url=False)
            }
        ) from None


def action_commit(*, action: Action, task: Task) -> dict[str, Any]:
    with core_services.history_reason(f"task {task.pk} ({task.workflow})"):
        return _COMMITTERS[action.kind].function(action, task)


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
    from email.utils import formataddr

    from core import selectors as core_selectors

    workspace = core_selectors.workspace_get()
    if workspace is None or not workspace.operator_email:
        return settings.DEFAULT_FROM_EMAIL
    return formataddr((workspace.operator_name or "", workspace.operator_email))


@committer(
    "email.send", effect="external", payload=EmailPayload, irreversible_note="A sent email cannot be unsent."
)
def email_send(action: Action, task: Task) -> dict[str, Any]:
    try:
        payload = EmailPayload.model_validate(action.payload)
    except PydanticValidationError as exc:
        raise ValidationError(f"email.send payload is invalid: {exc}") from None
    email = _outbox_email(action, payload)
    return {"outbox_email": email.pk, "message_id": email.message_id}


def _outbox_email(action: Action, payload: EmailPayload) -> OutboxEmail:
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


class DecisionPayload(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    rationale: str = ""
    client_id: int | None = None
    project_id: int | None = None


@committer(
    "decision.record",
    effect="record",
    payload=DecisionPayload,
    irreversible_note="Decisions are kept as history; record a new decision to change course.",
)
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


@committer("memory.store", effect="internal", payload=MemoryStorePayload)
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


@committer("memory.compress", effect="internal", payload=MemoryCompressPayload)
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


@committer("memory.expire", effect="internal", payload=MemorySweepPayload)
def memory_expire(action: Action, task: Task) -> dict[str, Any]:
    from core.memory.services import memory_expire as expire

    payload = MemorySweepPayload.model_validate(action.payload)
    return {"deleted": expire(now=_sweep_now(payload))}


@committer("memory.retain", effect="internal", payload=MemorySweepPayload)
def memory_retain(action: Action, task: Task) -> dict[str, Any]:
    from core.memory.services import memory_retain as retain
    from core.memory.services import retention_rules

    payload = MemorySweepPayload.model_validate(action.payload)
    rules = retention_rules(",".join(f"{key}={days}" for key, days in payload.retention.items()))
    return {"deleted": retain(now=_sweep_now(payload), rules=rules)}


# --- Canonical record changes (reversible), money records and deletions (hard floors) ---------------


class RecordUpdatePayload(BaseModel):
    model: str = Field(description="core.client, core.contact, core.project or core.deliverable")
    pk: int
    fields: dict[str, Any] = Field(min_length=1)


@committer("record.update", effect="record", payload=RecordUpdatePayload, reversible=True)
def record_update(action: Action, task: Task) -> dict[str, Any]:
    payload = RecordUpdatePayload.model_validate(action.payload)
    change = core_services.record_update(label=payload.model, pk=payload.pk, fields=payload.fields, by=None)
    return {"changes": [change.as_dict()]}


class RecordRevertPayload(BaseModel):
    action_id: int = Field(description="The committed action whose record change is reverted.")
    model: str
    pk: int
    history_id: int = Field(description="The history row the reverted change wrote.")


@committer("record.revert", effect="record", payload=RecordRevertPayload, reversible=True)
def record_revert(action: Action, task: Task) -> dict[str, Any]:
    payload = RecordRevertPayload.model_validate(action.payload)
    change = core_services.record_revert(
        label=payload.model, pk=payload.pk, history_id=payload.history_id, by=None
    )
    return {"changes": [change.as_dict()], "reverted_action": payload.action_id}


class RecordDeletePayload(BaseModel):
    model: str
    pk: int


@committer(
    "record.delete",
    effect="delete",
    payload=RecordDeletePayload,
    irreversible_note="A deleted record is gone; its history rows remain.",
)
def record_delete(action: Action, task: Task) -> dict[str, Any]:
    payload = RecordDeletePayload.model_validate(action.payload)
    core_services.record_delete(label=payload.model, pk=payload.pk, by=None)
    return {"deleted": {"model": payload.model, "pk": payload.pk}}


class InvoicePaidPayload(BaseModel):
    invoice_id: int
    paid_at: str = ""


@committer(
    "invoice.mark_paid",
    effect="money",
    payload=InvoicePaidPayload,
    irreversible_note="A payment is a money record: correct it with a new, approved change.",
)
def invoice_mark_paid(action: Action, task: Task) -> dict[str, Any]:
    from django.utils.dateparse import parse_datetime

    from core.models import Invoice

    payload = InvoicePaidPayload.model_validate(action.payload)
    invoice = Invoice.objects.get(pk=payload.invoice_id)
    paid_at = parse_datetime(payload.paid_at) if payload.paid_at else None
    invoice = core_services.invoice_mark_paid(invoice=invoice, by=None, paid_at=paid_at)
    return {"invoice": invoice.pk, "status": invoice.status}


class InvoiceVoidPayload(BaseModel):
    invoice_id: int
    reason: str = Field(min_length=1)


@committer(
    "invoice.void",
    effect="money",
    payload=InvoiceVoidPayload,
    irreversible_note="A voided invoice stays void; reissue it instead.",
)
def invoice_void(action: Action, task: Task) -> dict[str, Any]:
    from core.models import Invoice

    payload = InvoiceVoidPayload.model_validate(action.payload)
    invoice = core_services.invoice_void(
        invoice=Invoice.objects.get(pk=payload.invoice_id), by=None, reason=payload.reason
    )
    return {"invoice": invoice.pk, "status": invoice.status}


class ProposalLinePayload(BaseModel):
    service_key: str = ""
    description: str = Field(min_length=1, max_length=500)
    quantity: Decimal = Field(ge=0)
    unit: str = ""
    unit_price: Decimal = Field(ge=0)
    tax_rate: Decimal = Field(default=Decimal("0"), ge=0, le=100)


class ProposalSendPayload(EmailPayload):
    """A proposal and its cover email, sent together once the operator approves (one tap)."""

    client_id: int | None = None
    sender_name: str = ""
    company: str = ""
    title: str = Field(min_length=1, max_length=200)
    currency: str = Field(min_length=3, max_length=3)
    lines: list[ProposalLinePayload] = Field(min_length=1)
    valid_days: int = Field(default=30, ge=1, le=365)


@committer(
    "proposal.send",
    effect="external",
    payload=ProposalSendPayload,
    irreversible_note="A sent proposal cannot be unsent; withdraw it in the back office.",
)
def proposal_send(action: Action, task: Task) -> dict[str, Any]:
    import datetime as dt

    from django.utils import timezone

    from core.models import Client

    payload = ProposalSendPayload.model_validate(action.payload)
    client = Client.objects.filter(pk=payload.client_id).first() if payload.client_id else None
    created = False
    if client is None:
        client, created = core_services.client_for_sender(
            email=str(payload.to[0]), name=payload.sender_name, company=payload.company, by=None
        )
    proposal = core_services.proposal_send_record(
        client=client,
        by=None,
        title=payload.title,
        lines=[line.model_dump() for line in payload.lines],
        currency=payload.currency.upper(),
        cover_letter=payload.body,
        valid_until=timezone.localdate() + dt.timedelta(days=payload.valid_days),
    )
    email = _outbox_email(action, payload)
    return {
        "proposal": proposal.pk,
        "total": str(proposal.total),
        "client": client.pk,
        "client_created": created,
        "outbox_email": email.pk,
        "message_id": email.message_id,
    }


class NoteCreatePayload(BaseModel):
    text: str = Field(min_length=1)
    client_id: int | None = None
    project_id: int | None = None


@committer(
    "note.create",
    effect="record",
    payload=NoteCreatePayload,
    irreversible_note="A note stays in the record; edit or delete it in the back office.",
)
def note_create(action: Action, task: Task) -> dict[str, Any]:
    from core.models import Client, Project

    payload = NoteCreatePayload.model_validate(action.payload)
    note = core_services.note_create(
        by=None,
        text=payload.text,
        client=Client.objects.filter(pk=payload.client_id).first() if payload.client_id else None,
        project=Project.objects.filter(pk=payload.project_id).first() if payload.project_id else None,
    )
    return {"note": note.pk}


class IntakeReviewPayload(BaseModel):
    message_id: int
    client_id: int | None = None
    title: str = Field(min_length=1, max_length=300)
    found: dict[str, Any] = {}
    reasons: list[str] = []


@committer(
    "intake.review",
    effect="record",
    payload=IntakeReviewPayload,
    irreversible_note="The review is kept as a decision in the record.",
)
def intake_review(action: Action, task: Task) -> dict[str, Any]:
    """The operator looked at a mail the agents were unsure about: the review is recorded as a decision
    about that message (what was found, why it needed a person), so the record explains the outcome."""
    import json

    from core.models import Client, Message

    payload = IntakeReviewPayload.model_validate(action.payload)
    message = Message.objects.filter(pk=payload.message_id).first()
    decision = core_services.decision_record(
        by=action.decided_by,  # the operator who reviewed it
        title=payload.title,
        rationale="\n".join(
            [*payload.reasons, "Found: " + json.dumps(payload.found, ensure_ascii=False, default=str)]
        ),
        client=Client.objects.filter(pk=payload.client_id).first() if payload.client_id else None,
        subject=message,
    )
    return {"decision": decision.pk}
