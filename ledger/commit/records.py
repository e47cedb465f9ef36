"""Committers that change the canonical record: decisions and intake reviews, notes, record updates and
deletions, and the money documents (a proposal sent with its cover email, invoices marked paid or voided)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from pydantic import BaseModel, Field

from core import clock
from core import services as core_services
from core.models import Client, Invoice, Message, Project, Proposal
from ledger.commit.email import EmailPayload, outbox_email_for
from ledger.commit.registry import DELETE, EXTERNAL, MONEY, RECORD, committer, row_or_none
from ledger.models import Action, OutboxEmail, Task


class DecisionPayload(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    rationale: str = ""
    client_id: int | None = None
    project_id: int | None = None


@committer(
    "decision.record",
    effect=RECORD,
    irreversible_note="Decisions are kept as history; record a new decision to change course.",
)
def commit_decision_record(payload: DecisionPayload, action: Action, task: Task) -> dict[str, Any]:
    decision = core_services.decision_record(
        by=None,
        title=payload.title,
        rationale=payload.rationale,
        client=Client.objects.get(pk=payload.client_id) if payload.client_id else None,
        project=Project.objects.get(pk=payload.project_id) if payload.project_id else None,
    )
    return {"decision": decision.pk}


class IntakeReviewPayload(BaseModel):
    message_id: int
    client_id: int | None = None
    title: str = Field(min_length=1, max_length=300)
    found: dict[str, Any] = {}
    reasons: list[str] = []


@committer(
    "intake.review",
    effect=RECORD,
    irreversible_note="The review is kept as a decision in the record.",
)
def commit_intake_review(payload: IntakeReviewPayload, action: Action, task: Task) -> dict[str, Any]:
    """The operator looked at a mail the agents were unsure about: the review is recorded as a decision
    about that message (what was found, why it needed a person), so the record explains the outcome."""
    message = Message.objects.filter(pk=payload.message_id).first()
    decision = core_services.decision_record(
        by=action.decided_by,  # the operator who reviewed it
        title=payload.title,
        rationale="\n".join(
            [*payload.reasons, "Found: " + json.dumps(payload.found, ensure_ascii=False, default=str)]
        ),
        client=row_or_none(Client, payload.client_id),
        subject=message,
    )
    return {"decision": decision.pk}


class NoteCreatePayload(BaseModel):
    text: str = Field(min_length=1)
    client_id: int | None = None
    project_id: int | None = None


@committer(
    "note.create",
    effect=RECORD,
    irreversible_note="A note stays in the record; edit or delete it in the back office.",
)
def commit_note_create(payload: NoteCreatePayload, action: Action, task: Task) -> dict[str, Any]:
    note = core_services.note_create(
        by=None,
        text=payload.text,
        client=row_or_none(Client, payload.client_id),
        project=row_or_none(Project, payload.project_id),
    )
    return {"note": note.pk}


class RecordUpdatePayload(BaseModel):
    model: str = Field(description="core.client, core.contact, core.project or core.deliverable")
    pk: int
    fields: dict[str, Any] = Field(min_length=1)


@committer("record.update", effect=RECORD, reversible=True)
def commit_record_update(payload: RecordUpdatePayload, action: Action, task: Task) -> dict[str, Any]:
    change = core_services.record_update(label=payload.model, pk=payload.pk, fields=payload.fields, by=None)
    return {"changes": [change.as_dict()]}


class RecordRevertPayload(BaseModel):
    action_id: int = Field(description="The committed action whose record change is reverted.")
    model: str
    pk: int
    history_id: int = Field(description="The history row the reverted change wrote.")


@committer("record.revert", effect=RECORD, reversible=True)
def commit_record_revert(payload: RecordRevertPayload, action: Action, task: Task) -> dict[str, Any]:
    change = core_services.record_revert(
        label=payload.model, pk=payload.pk, history_id=payload.history_id, by=None
    )
    return {"changes": [change.as_dict()], "reverted_action": payload.action_id}


class RecordDeletePayload(BaseModel):
    model: str
    pk: int


@committer(
    "record.delete",
    effect=DELETE,
    irreversible_note="A deleted record is gone; its history rows remain.",
)
def commit_record_delete(payload: RecordDeletePayload, action: Action, task: Task) -> dict[str, Any]:
    core_services.record_delete(label=payload.model, pk=payload.pk, by=None)
    return {"deleted": {"model": payload.model, "pk": payload.pk}}


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


def proposal_delivered(payload: ProposalSendPayload, action: Action, email: OutboxEmail) -> None:
    """The cover email reached the mail server: the proposal is sent, as of that moment."""
    proposal = row_or_none(Proposal, (action.result or {}).get("proposal"))
    if proposal is not None and proposal.status == Proposal.Status.SENDING:
        core_services.proposal_transition(
            proposal=proposal, to=Proposal.Status.SENT, by=None, at=email.sent_at or clock.now()
        )


@committer(
    "proposal.send",
    effect=EXTERNAL,
    irreversible_note="A sent proposal cannot be unsent; withdraw it in the back office.",
    delivered=proposal_delivered,
)
def commit_proposal_send(payload: ProposalSendPayload, action: Action, task: Task) -> dict[str, Any]:
    client = row_or_none(Client, payload.client_id)
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
        valid_until=timezone.localdate(clock.now()) + dt.timedelta(days=payload.valid_days),
    )
    email = outbox_email_for(action, payload)
    return {
        "proposal": proposal.pk,
        "total": str(proposal.total),
        "client": client.pk,
        "client_created": created,
        "outbox_email": email.pk,
        "message_id": email.message_id,
    }


class InvoicePaidPayload(BaseModel):
    invoice_id: int
    paid_at: str = ""


@committer(
    "invoice.mark_paid",
    effect=MONEY,
    irreversible_note="A payment is a money record: correct it with a new, approved change.",
)
def commit_invoice_mark_paid(payload: InvoicePaidPayload, action: Action, task: Task) -> dict[str, Any]:
    invoice = Invoice.objects.get(pk=payload.invoice_id)
    paid_at = parse_datetime(payload.paid_at) if payload.paid_at else None
    invoice = core_services.invoice_mark_paid(invoice=invoice, by=None, paid_at=paid_at)
    return {"invoice": invoice.pk, "status": invoice.status}


class InvoiceVoidPayload(BaseModel):
    invoice_id: int
    reason: str = Field(min_length=1)


@committer(
    "invoice.void",
    effect=MONEY,
    irreversible_note="A voided invoice stays void; reissue it instead.",
)
def commit_invoice_void(payload: InvoiceVoidPayload, action: Action, task: Task) -> dict[str, Any]:
    invoice = core_services.invoice_void(
        invoice=Invoice.objects.get(pk=payload.invoice_id), by=None, reason=payload.reason
    )
    return {"invoice": invoice.pk, "status": invoice.status}
