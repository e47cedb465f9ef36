"""Money documents: proposals and invoices, their drafts and lines, their lifecycles, and the invoices'
gap-free numbering."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from core import clock
from core.invoice_numbers import invoice_number_format
from core.invoicing.details import DETAILS_MISSING, invoice_details_missing, parties_snapshot
from core.memory.capture import memory_capture_request
from core.models import (
    Client,
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Proposal,
    ProposalLine,
    Workspace,
)
from core.services._common import (
    User,
    _apply,
    _check_dates,
    _check_project_belongs,
    _currency_or_default,
    _save,
)
from core.services.deletion import _delete
from core.services.lines import LineData, _line_delete, _line_save, _lines_replace

# In the order the back office shows them (core.admin takes these lists as its forms' fields).
PROPOSAL_FIELDS = ("title", "project", "currency", "valid_until", "cover_letter", "notes")
PROPOSAL_TRANSITIONS: dict[str, set[str]] = {
    Proposal.Status.DRAFT: {
        Proposal.Status.PENDING_APPROVAL,
        Proposal.Status.SENT,
        Proposal.Status.WITHDRAWN,
    },
    Proposal.Status.PENDING_APPROVAL: {
        Proposal.Status.DRAFT,
        Proposal.Status.SENDING,
        Proposal.Status.SENT,
        Proposal.Status.WITHDRAWN,
    },
    # Sending: its email waits in the outbox; it becomes sent when delivered, or is withdrawn if never.
    Proposal.Status.SENDING: {Proposal.Status.SENT, Proposal.Status.WITHDRAWN},
    Proposal.Status.SENT: {Proposal.Status.ACCEPTED, Proposal.Status.DECLINED, Proposal.Status.WITHDRAWN},
    Proposal.Status.ACCEPTED: set(),
    Proposal.Status.DECLINED: set(),
    Proposal.Status.WITHDRAWN: set(),
}


# A proposal or an invoice: the two documents whose lines are locked while they change.
DocumentT = TypeVar("DocumentT", Proposal, Invoice)


def _locked(document: DocumentT) -> DocumentT:
    """The document read again under a row lock, so a concurrent change waits for this transaction."""
    return type(document).objects.select_for_update().get(pk=document.pk)


def _locked_draft(document: DocumentT, *, ref: Callable[[DocumentT], object], refusal: str) -> DocumentT:
    """The document, locked; refused unless it is a draft ("<Kind> <ref> is <status><refusal>")."""
    locked = _locked(document)
    if locked.status != locked.Status.DRAFT:
        kind = locked._meta.verbose_name.capitalize()
        raise ValidationError(f"{kind} {ref(locked)} is {locked.get_status_display().lower()}{refusal}")
    return locked


def _draft_update(
    document: DocumentT,
    *,
    by: User,
    lines: Iterable[Mapping[str, Any] | LineData] | None,
    data: Mapping[str, Any],
    allowed: Iterable[str],
) -> DocumentT:
    """Change a locked draft's fields, and replace its lines when `lines` is given (None keeps them)."""
    changed = _apply(document, data, allowed=allowed)
    _links_check(document)
    _save(document, by=by, update_fields=changed)
    if lines is not None:
        _lines_replace(document, document.lines.model, lines, by=by)
    return document


def _links_check(document: Proposal | Invoice) -> None:
    """The project and proposal a document names belong to its client."""
    _check_project_belongs(document.project, document.client)
    proposal = getattr(document, "proposal", None)
    if proposal is not None and proposal.client_id != document.client_id:
        raise ValidationError({"proposal": "The proposal belongs to another client."})


def _proposal_draft(proposal: Proposal) -> Proposal:
    return _locked_draft(proposal, ref=lambda locked: locked.pk, refusal="; only drafts can be edited.")


@transaction.atomic
def proposal_create(
    *, client: Client, by: User, title: str, lines: Iterable[Mapping[str, Any] | LineData] = (), **data: Any
) -> Proposal:
    proposal = Proposal(client=client, currency=_currency_or_default(data, client))
    _apply(proposal, {"title": title, **data}, allowed=PROPOSAL_FIELDS)
    _links_check(proposal)
    _save(proposal, by=by)
    _lines_replace(proposal, ProposalLine, lines, by=by)
    memory_capture_request(record=proposal)
    return proposal


@transaction.atomic
def proposal_update(
    *, proposal: Proposal, by: User, lines: Iterable[Mapping[str, Any] | LineData] | None = None, **data: Any
) -> Proposal:
    _proposal_draft(proposal)
    _draft_update(proposal, by=by, lines=lines, data=data, allowed=PROPOSAL_FIELDS)
    memory_capture_request(record=proposal)
    return proposal


@transaction.atomic
def proposal_line_save(*, line: ProposalLine, by: User) -> ProposalLine:
    proposal = _proposal_draft(line.proposal)
    _line_save(line, proposal, by=by)
    memory_capture_request(record=proposal)
    return line


@transaction.atomic
def proposal_line_delete(*, line: ProposalLine, by: User) -> None:
    proposal = _proposal_draft(line.proposal)
    _line_delete(line, proposal, by=by)
    memory_capture_request(record=proposal)


@transaction.atomic
def proposal_transition(*, proposal: Proposal, to: str, by: User, at: dt.datetime | None = None) -> Proposal:
    """Move a proposal along its lifecycle; `at` back-dates the step (imports, the demo)."""
    locked = _locked(proposal)
    if to not in PROPOSAL_TRANSITIONS.get(locked.status, set()):
        raise ValidationError({"status": f"A {locked.status} proposal cannot become {to}."})
    if to in (Proposal.Status.PENDING_APPROVAL, Proposal.Status.SENDING, Proposal.Status.SENT) and not (
        locked.lines.exists()
    ):
        raise ValidationError({"status": "A proposal needs at least one line before it goes out."})
    now = at or clock.now()
    locked.status = to
    fields = ["status"]
    if to == Proposal.Status.SENT:
        locked.sent_at = now
        fields.append("sent_at")
    if to in (Proposal.Status.ACCEPTED, Proposal.Status.DECLINED):
        locked.decided_at = now
        fields.append("decided_at")
    _save(locked, by=by, update_fields=fields)
    proposal.refresh_from_db()
    memory_capture_request(record=proposal)
    return proposal


@transaction.atomic
def proposal_delete_draft(*, proposal: Proposal, by: User) -> None:
    _delete(proposal, by=by, cascade="lines")


@transaction.atomic
def proposal_send_record(
    *,
    client: Client,
    by: User,
    title: str,
    lines: Iterable[Mapping[str, Any] | LineData],
    currency: str,
    cover_letter: str,
    valid_until: dt.date | None = None,
    sent_at: dt.datetime | None = None,
) -> Proposal:
    """A proposal that goes out now (its email is in the outbox of the same transaction): created with
    its lines, then pending approval → sending, each step in its history. It becomes sent when its email
    is delivered (`proposal_transition` to sent, by the ledger), not before."""
    proposal = proposal_create(
        client=client,
        by=by,
        title=title,
        lines=lines,
        currency=currency,
        cover_letter=cover_letter,
        valid_until=valid_until,
    )
    proposal_transition(proposal=proposal, to=Proposal.Status.PENDING_APPROVAL, by=by)
    return proposal_transition(proposal=proposal, to=Proposal.Status.SENDING, by=by, at=sent_at)


INVOICE_DRAFT_FIELDS = ("project", "proposal", "currency", "supply_date", "due_date", "notes")


def _invoice_draft(invoice: Invoice) -> Invoice:
    return _locked_draft(
        invoice,
        ref=lambda locked: locked.number,
        refusal=": its lines and amounts cannot change. Void it and issue a new one instead.",
    )


@transaction.atomic
def invoice_create(
    *, client: Client, by: User, lines: Iterable[Mapping[str, Any] | LineData] = (), **data: Any
) -> Invoice:
    invoice = Invoice(client=client, currency=_currency_or_default(data, client))
    _apply(invoice, data, allowed=INVOICE_DRAFT_FIELDS)
    _links_check(invoice)
    _save(invoice, by=by)
    _lines_replace(invoice, InvoiceLine, lines, by=by)
    return invoice


@transaction.atomic
def invoice_update(
    *, invoice: Invoice, by: User, lines: Iterable[Mapping[str, Any] | LineData] | None = None, **data: Any
) -> Invoice:
    _invoice_draft(invoice)
    return _draft_update(invoice, by=by, lines=lines, data=data, allowed=INVOICE_DRAFT_FIELDS)


@transaction.atomic
def invoice_line_save(*, line: InvoiceLine, by: User) -> InvoiceLine:
    invoice = _invoice_draft(line.invoice)
    _line_save(line, invoice, by=by)
    return line


@transaction.atomic
def invoice_line_delete(*, line: InvoiceLine, by: User) -> None:
    invoice = _invoice_draft(line.invoice)
    _line_delete(line, invoice, by=by)


def _invoice_next_number(year: int) -> int:
    """Take the next number of `year` inside the caller's transaction.

    The upsert locks the year's row until the issuing transaction ends, so concurrent issues queue
    up behind each other, and a rolled-back issue releases its number: no duplicates, no gaps.
    """
    table = InvoiceSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last_number) VALUES (%s, 1) "  # noqa: S608 - table name is ours
            f"ON CONFLICT (year) DO UPDATE SET last_number = {table}.last_number + 1 RETURNING last_number",
            [year],
        )
        return cursor.fetchone()[0]


@transaction.atomic
def invoice_issue(*, invoice: Invoice, by: User, issue_date: dt.date | None = None) -> Invoice:
    """Draft → approved: freeze the lines and give the invoice the next gap-free number of its year."""
    locked = _locked(invoice)
    if locked.status != Invoice.Status.DRAFT:
        raise ValidationError({"status": f"Invoice {locked.number} has already been issued."})
    if not locked.lines.exists():
        raise ValidationError({"lines": "An invoice needs at least one line before it is issued."})
    workspace = Workspace.objects.filter(pk=1).first()
    if workspace is None:
        raise ValidationError("Set up the workspace (name and invoice prefix) before issuing invoices.")
    missing = invoice_details_missing(
        workspace=workspace, client=locked.client, tax_rates=locked.lines.values_list("tax_rate", flat=True)
    )
    if missing:
        raise ValidationError({"details": DETAILS_MISSING + "; ".join(missing) + "."})
    issue_date = issue_date or timezone.localdate(clock.now())
    due_date = locked.due_date or issue_date + dt.timedelta(days=workspace.payment_terms_days)
    _check_dates(issue_date, due_date, end_field="due_date", what="due date")
    sequence = _invoice_next_number(issue_date.year)
    locked.status = Invoice.Status.APPROVED
    locked.issue_date = issue_date
    locked.due_date = due_date
    locked.number_year = issue_date.year
    locked.number_sequence = sequence
    locked.number = invoice_number_format(
        prefix=workspace.invoice_prefix, year=issue_date.year, sequence=sequence
    )
    locked.supply_date = locked.supply_date or issue_date
    locked.seller, locked.buyer = parties_snapshot(workspace=workspace, client=locked.client)
    _save(
        locked,
        by=by,
        update_fields=[
            "status",
            "issue_date",
            "due_date",
            "number_year",
            "number_sequence",
            "number",
            "supply_date",
            "seller",
            "buyer",
        ],
    )
    invoice.refresh_from_db()
    return invoice


INVOICE_TRANSITIONS: dict[str, set[str]] = {
    Invoice.Status.APPROVED: {Invoice.Status.SENT, Invoice.Status.PAID, Invoice.Status.VOID},
    Invoice.Status.SENT: {Invoice.Status.PAID, Invoice.Status.OVERDUE, Invoice.Status.VOID},
    Invoice.Status.OVERDUE: {Invoice.Status.PAID, Invoice.Status.VOID},
    Invoice.Status.PAID: set(),
    Invoice.Status.VOID: set(),
}


def _invoice_transition(invoice: Invoice, to: str, *, by: User, **stamps: Any) -> Invoice:
    locked = _locked(invoice)
    if locked.status == Invoice.Status.DRAFT:
        raise ValidationError({"status": "Issue the invoice before it can be sent, paid or voided."})
    if to not in INVOICE_TRANSITIONS[locked.status]:
        raise ValidationError({"status": f"A {locked.status} invoice cannot become {to}."})
    locked.status = to
    for field, value in stamps.items():
        setattr(locked, field, value)
    _save(locked, by=by, update_fields=["status", *stamps])
    invoice.refresh_from_db()
    return invoice


@transaction.atomic
def invoice_mark_sent(*, invoice: Invoice, by: User, sent_at: dt.datetime | None = None) -> Invoice:
    return _invoice_transition(invoice, Invoice.Status.SENT, by=by, sent_at=sent_at or clock.now())


@transaction.atomic
def invoice_mark_paid(*, invoice: Invoice, by: User, paid_at: dt.datetime | None = None) -> Invoice:
    return _invoice_transition(invoice, Invoice.Status.PAID, by=by, paid_at=paid_at or clock.now())


@transaction.atomic
def invoice_mark_overdue(*, invoice: Invoice, by: User) -> Invoice:
    return _invoice_transition(invoice, Invoice.Status.OVERDUE, by=by)


@transaction.atomic
def invoice_void(*, invoice: Invoice, by: User, reason: str, voided_at: dt.datetime | None = None) -> Invoice:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"void_reason": "Say why the invoice is void."})
    voided_at = voided_at or clock.now()
    _invoice_transition(invoice, Invoice.Status.VOID, by=by, voided_at=voided_at, void_reason=reason)
    # The issued number stays in the books; the credit note is the document that cancels it.
    credit_note_create(invoice=invoice, by=by, issue_date=timezone.localdate(voided_at), reason=reason)
    return invoice


def _credit_note_next_number(year: int) -> int:
    """The next credit-note number of `year`: a transaction-scoped advisory lock serialises concurrent
    voids, so max + 1 is gap-free and unique (the UNIQUE constraint backs it up)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('core_creditnote_number'), %s)", [year])
    last = CreditNote.objects.filter(number_year=year).aggregate(m=Max("number_sequence"))["m"]
    return (last or 0) + 1


def credit_note_number_format(*, prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year}-C{sequence:04d}"


@transaction.atomic
def credit_note_create(*, invoice: Invoice, by: User, issue_date: dt.date, reason: str) -> CreditNote:
    """The credit note cancelling a void invoice in full; one per invoice."""
    if invoice.status != Invoice.Status.VOID:
        raise ValidationError({"status": "Only a void invoice is credited."})
    existing = CreditNote.objects.filter(invoice=invoice).first()
    if existing is not None:
        return existing
    workspace = Workspace.objects.get(pk=1)
    issue_date = max(issue_date, invoice.issue_date)
    sequence = _credit_note_next_number(issue_date.year)
    note = CreditNote(
        invoice=invoice,
        number=credit_note_number_format(
            prefix=workspace.invoice_prefix, year=issue_date.year, sequence=sequence
        ),
        number_year=issue_date.year,
        number_sequence=sequence,
        issue_date=issue_date,
        reason=reason,
    )
    return _save(note, by=by)


@transaction.atomic
def invoice_reissue(*, invoice: Invoice, by: User) -> Invoice:
    """A new draft carrying the void invoice's lines, linked to it, ready to correct and issue."""
    locked = _locked(invoice)
    if locked.status != Invoice.Status.VOID:
        raise ValidationError({"status": "Only a void invoice can be re-issued."})
    if Invoice.objects.filter(replaces=locked).exists():
        raise ValidationError({"status": f"Invoice {locked.number} has already been re-issued."})
    lines = [LineData.of(line) for line in locked.lines.all()]
    carried = ("client", "project", "proposal", "currency", "notes")
    draft = Invoice(replaces=locked, **{field: getattr(locked, field) for field in carried})
    _save(draft, by=by)
    _lines_replace(draft, InvoiceLine, lines, by=by)
    return draft


@transaction.atomic
def invoice_delete_draft(*, invoice: Invoice, by: User) -> None:
    _delete(_invoice_draft(invoice), by=by, cascade="lines")
