"""Writes to the canonical records. Every change to core data goes through one of these functions.

Each function validates first (raising `django.core.exceptions.ValidationError` with field-level
messages), then writes inside a transaction, naming `by` (the user) in the history row. The database
constraints and triggers repeat the important invariants, so a bug here cannot corrupt money records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.currencies import currency_is_valid, money_round
from core.memory.capture import memory_capture_request, memory_forget_source
from core.models import (
    ActionTemplate,
    ApiToken,
    Artifact,
    Client,
    Contact,
    Contract,
    Conversation,
    Decision,
    Deliverable,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Message,
    MoneyLine,
    Note,
    PricingRule,
    Project,
    Proposal,
    ProposalLine,
    Workspace,
)

User = AbstractBaseUser | None
ZERO = Decimal("0.00")


# --- Normalisation and validation helpers ---------------------------------------------------


def email_normalise(value: str | None, *, field: str = "email", required: bool = False) -> str:
    """Trim and lower-case an address and check it is one. Blank stays blank unless required."""
    address = (value or "").strip().lower()
    if not address:
        if required:
            raise ValidationError({field: "An email address is required."})
        return ""
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({field: f"{value!r} is not a valid email address."}) from None
    return address


def currency_normalise(value: str | None, *, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if not currency_is_valid(code):
        raise ValidationError({field: f"{value!r} is not an ISO 4217 currency code (e.g. EUR, USD, SEK)."})
    return code


def decimal_parse(
    value: Any,
    *,
    field: str,
    allow_none: bool = False,
    max_digits: int | None = None,
    decimal_places: int | None = None,
) -> Decimal | None:
    """Money and quantities are Decimal, never float, never negative, and fit their column."""
    if value is None or value == "":
        if allow_none:
            return None
        raise ValidationError({field: "This value is required."})
    if isinstance(value, float):
        # A float has already lost precision; go through its shortest repr rather than its binary value.
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{value!r} is not a number."}) from None
    if not number.is_finite():
        raise ValidationError({field: "The value must be a finite number."})
    if number < 0:
        raise ValidationError({field: "The value cannot be negative."})
    if max_digits is not None and number >= Decimal(10) ** (max_digits - (decimal_places or 0)):
        raise ValidationError({field: f"The value is too large (at most {max_digits} digits)."})
    if decimal_places is not None and -min(number.normalize().as_tuple().exponent, 0) > decimal_places:
        raise ValidationError({field: f"Use at most {decimal_places} decimal places."})
    return number


_NORMALISERS = {
    "email": email_normalise,
    "operator_email": email_normalise,
    "currency": currency_normalise,
    "default_currency": currency_normalise,
}
_DECIMAL_FIELDS = {"budget", "estimate_hours", "unit_price", "min_units", "value", "quantity", "tax_rate"}


def _clean_value(field: str, value: Any) -> Any:
    if field in _NORMALISERS:
        return _NORMALISERS[field](value, field=field)
    if field in _DECIMAL_FIELDS:
        return decimal_parse(value, field=field, allow_none=True)
    return value


_history_reason: ContextVar[str | None] = ContextVar("history_reason", default=None)


@contextmanager
def history_reason(reason: str) -> Iterator[None]:
    """Name why records change (e.g. "task 3f2a…") in the history rows written inside the block.

    The ledger's commit step uses it, so a change made by the system records the task that made it.
    """
    token = _history_reason.set(reason)
    try:
        yield
    finally:
        _history_reason.reset(token)


def _stamp(instance: models.Model, by: User) -> None:
    instance._history_user = by
    reason = _history_reason.get()
    if reason:
        instance._change_reason = reason


def _save(instance: models.Model, *, by: User, update_fields: Iterable[str] | None = None) -> models.Model:
    """Validate fields, then save, recording `by` on the history row. Nothing to update writes nothing."""
    if update_fields is not None and not list(update_fields):
        return instance
    exclude = None
    if update_fields is not None:
        field_names = {f.name for f in instance._meta.concrete_fields}
        exclude = field_names - set(update_fields)
    # Constraints are checked by the database itself (and by the explicit checks in each service);
    # running their validation queries here would double the queries of every save.
    instance.full_clean(exclude=exclude, validate_constraints=False)
    _stamp(instance, by)
    if update_fields is not None:
        update_fields = set(update_fields) | ({"updated_at"} if hasattr(instance, "updated_at") else set())
    instance.save(update_fields=update_fields)
    return instance


def _apply(instance: models.Model, data: Mapping[str, Any], *, allowed: Iterable[str]) -> list[str]:
    allowed = set(allowed)
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    changed = []
    for field, raw in data.items():
        try:
            value = _clean_value(field, raw)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
            continue
        setattr(instance, field, value)
        changed.append(field)
    if errors:
        raise ValidationError(errors)
    return changed


def _currency_or_default(data: dict[str, Any], client: Client) -> str:
    """An omitted currency (None) means the client's; anything given, even blank, must be valid."""
    currency = data.pop("currency", None)
    return client.default_currency if currency is None else currency_normalise(currency)


def _check_dates(start: dt.date | None, end: dt.date | None, *, end_field: str, what: str) -> None:
    if start and end and end < start:
        raise ValidationError({end_field: f"The {what} cannot be before the start."})


# --- Workspace ------------------------------------------------------------------------------

WORKSPACE_FIELDS = (
    "name",
    "operator_name",
    "operator_email",
    "invoice_prefix",
    "default_currency",
    "payment_terms_days",
)


@transaction.atomic
def workspace_configure(*, by: User, **data: Any) -> Workspace:
    workspace = Workspace.objects.select_for_update().filter(pk=1).first() or Workspace(pk=1)
    changed = _apply(workspace, data, allowed=WORKSPACE_FIELDS)
    return _save(workspace, by=by, update_fields=changed if workspace._state.adding is False else None)


# --- Clients, contacts, projects, deliverables -----------------------------------------------

CLIENT_FIELDS = ("name", "kind", "status", "email", "website", "country", "default_currency", "notes")


@transaction.atomic
def client_create(*, by: User, name: str, **data: Any) -> Client:
    client = Client()
    _apply(client, {"name": (name or "").strip(), **data}, allowed=CLIENT_FIELDS)
    if not client.name:
        raise ValidationError({"name": "A client needs a name."})
    return _save(client, by=by)


@transaction.atomic
def client_update(*, client: Client, by: User, **data: Any) -> Client:
    changed = _apply(client, data, allowed=CLIENT_FIELDS)
    if "name" in changed:
        client.name = (client.name or "").strip()
        if not client.name:
            raise ValidationError({"name": "A client needs a name."})
    return _save(client, by=by, update_fields=changed)


CONTACT_FIELDS = ("name", "email", "role", "phone", "is_primary")


def _contact_check(contact: Contact) -> None:
    if not contact.email:
        raise ValidationError({"email": "A contact needs an email address."})
    clash = Contact.objects.filter(client_id=contact.client_id, email=contact.email).exclude(pk=contact.pk)
    if clash.exists():
        raise ValidationError({"email": f"{contact.email} is already a contact of this client."})


def _contact_make_only_primary(contact: Contact, *, by: User) -> None:
    for other in (
        Contact.objects.select_for_update()
        .filter(client_id=contact.client_id, is_primary=True)
        .exclude(pk=contact.pk)
    ):
        other.is_primary = False
        _save(other, by=by, update_fields=["is_primary"])


@transaction.atomic
def contact_create(*, client: Client, by: User, name: str, email: str, **data: Any) -> Contact:
    contact = Contact(client=client)
    _apply(contact, {"name": name, "email": email, **data}, allowed=CONTACT_FIELDS)
    _contact_check(contact)
    if contact.is_primary:
        _contact_make_only_primary(contact, by=by)
    return _save(contact, by=by)


@transaction.atomic
def contact_update(*, contact: Contact, by: User, **data: Any) -> Contact:
    changed = _apply(contact, data, allowed=CONTACT_FIELDS)
    _contact_check(contact)
    if contact.is_primary and "is_primary" in changed:
        _contact_make_only_primary(contact, by=by)
    return _save(contact, by=by, update_fields=changed)


PROJECT_FIELDS = ("name", "status", "budget", "currency", "start_date", "due_date", "description")


@transaction.atomic
def project_create(*, client: Client, by: User, name: str, **data: Any) -> Project:
    project = Project(client=client, currency=_currency_or_default(data, client))
    _apply(project, {"name": name, **data}, allowed=PROJECT_FIELDS)
    _check_dates(project.start_date, project.due_date, end_field="due_date", what="due date")
    return _save(project, by=by)


@transaction.atomic
def project_update(*, project: Project, by: User, **data: Any) -> Project:
    changed = _apply(project, data, allowed=PROJECT_FIELDS)
    _check_dates(project.start_date, project.due_date, end_field="due_date", what="due date")
    return _save(project, by=by, update_fields=changed)


DELIVERABLE_FIELDS = ("title", "status", "due_date", "estimate_hours")


@transaction.atomic
def deliverable_create(*, project: Project, by: User, title: str, **data: Any) -> Deliverable:
    deliverable = Deliverable(project=project)
    _apply(deliverable, {"title": title, **data}, allowed=DELIVERABLE_FIELDS)
    return _save(deliverable, by=by)


@transaction.atomic
def deliverable_update(*, deliverable: Deliverable, by: User, **data: Any) -> Deliverable:
    changed = _apply(deliverable, data, allowed=DELIVERABLE_FIELDS)
    return _save(deliverable, by=by, update_fields=changed)


# --- Money lines (shared by proposals and invoices) ------------------------------------------


@dataclass(frozen=True)
class LineData:
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = ""
    service_key: str = ""
    tax_rate: Decimal = Decimal("0")

    @classmethod
    def parse(cls, raw: Mapping[str, Any], *, index: int = 0) -> LineData:
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for field, optional in (("quantity", False), ("unit_price", False), ("tax_rate", True)):
            column = MoneyLine._meta.get_field(field)
            try:
                parsed = decimal_parse(
                    raw.get(field),
                    field=field,
                    allow_none=optional,
                    max_digits=column.max_digits,
                    decimal_places=column.decimal_places,
                )
                values[field] = parsed if parsed is not None else Decimal("0")
            except ValidationError as exc:
                errors.setdefault(f"lines.{index}.{field}", []).extend(exc.message_dict[field])
        description = str(raw.get("description") or "").strip()
        if not description:
            errors.setdefault(f"lines.{index}.description", []).append("Each line needs a description.")
        if "tax_rate" in values and values["tax_rate"] > 100:
            errors.setdefault(f"lines.{index}.tax_rate", []).append("A tax rate is a percentage up to 100.")
        if errors:
            raise ValidationError(errors)
        return cls(
            description=description,
            unit=str(raw.get("unit") or ""),
            service_key=str(raw.get("service_key") or ""),
            **values,
        )


def line_amounts(*, quantity: Decimal, unit_price: Decimal, tax_rate: Decimal) -> tuple[Decimal, Decimal]:
    """The line amount and its tax, rounded half up to cents exactly as the database checks them."""
    amount = money_round(quantity * unit_price)
    return amount, money_round(amount * tax_rate / 100)


def _line_fill(line: ProposalLine | InvoiceLine, data: LineData, position: int) -> None:
    line.position = position
    line.description = data.description
    line.quantity = data.quantity
    line.unit = data.unit
    line.unit_price = data.unit_price
    line.service_key = data.service_key
    line.tax_rate = data.tax_rate
    line.amount, line.tax_amount = line_amounts(
        quantity=data.quantity, unit_price=data.unit_price, tax_rate=data.tax_rate
    )


def _document_recompute_totals(document: Proposal | Invoice, *, by: User) -> None:
    """Totals are the database's own Decimal sums of the stored lines."""
    sums = document.lines.aggregate(
        subtotal=Coalesce(Sum("amount"), ZERO), tax_total=Coalesce(Sum("tax_amount"), ZERO)
    )
    document.subtotal = sums["subtotal"]
    document.tax_total = sums["tax_total"]
    document.total = document.subtotal + document.tax_total
    _save(document, by=by, update_fields=["subtotal", "tax_total", "total"])


def _parse_lines(lines: Iterable[Mapping[str, Any] | LineData]) -> list[LineData]:
    parsed: list[LineData] = []
    errors: dict[str, list[str]] = {}
    for index, raw in enumerate(lines):
        try:
            parsed.append(raw if isinstance(raw, LineData) else LineData.parse(raw, index=index))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return parsed


def _lines_replace(document: Proposal | Invoice, line_model, lines, *, by: User) -> None:
    parsed = _parse_lines(lines)
    for old in document.lines.all():
        _stamp(old, by)
        old.delete()
    for position, data in enumerate(parsed, start=1):
        line = line_model(**{line_model._meta.get_field(document._meta.model_name).name: document})
        _line_fill(line, data, position)
        _save(line, by=by)
    _document_recompute_totals(document, by=by)


def _line_save(line: ProposalLine | InvoiceLine, document: Proposal | Invoice, *, by: User) -> None:
    data = LineData.parse(
        {
            f: getattr(line, f)
            for f in ("description", "quantity", "unit_price", "unit", "service_key", "tax_rate")
        }
    )
    _line_fill(line, data, line.position or document.lines.count() + 1)
    _save(line, by=by)
    _document_recompute_totals(document, by=by)


# --- Proposals ------------------------------------------------------------------------------

PROPOSAL_FIELDS = ("title", "currency", "valid_until", "cover_letter", "notes", "project")
PROPOSAL_TRANSITIONS: dict[str, set[str]] = {
    Proposal.Status.DRAFT: {
        Proposal.Status.PENDING_APPROVAL,
        Proposal.Status.SENT,
        Proposal.Status.WITHDRAWN,
    },
    Proposal.Status.PENDING_APPROVAL: {
        Proposal.Status.DRAFT,
        Proposal.Status.SENT,
        Proposal.Status.WITHDRAWN,
    },
    Proposal.Status.SENT: {Proposal.Status.ACCEPTED, Proposal.Status.DECLINED, Proposal.Status.WITHDRAWN},
    Proposal.Status.ACCEPTED: set(),
    Proposal.Status.DECLINED: set(),
    Proposal.Status.WITHDRAWN: set(),
}


def _check_project_belongs(project: Project | None, client: Client) -> None:
    if project is not None and project.client_id != client.pk:
        raise ValidationError({"project": "The project belongs to another client."})


def _proposal_lock(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update().get(pk=proposal.pk)


def _proposal_require_draft(proposal: Proposal) -> None:
    if proposal.status != Proposal.Status.DRAFT:
        raise ValidationError(
            f"Proposal {proposal.pk} is {proposal.get_status_display().lower()}; only drafts can be edited."
        )


@transaction.atomic
def proposal_create(
    *, client: Client, by: User, title: str, lines: Iterable[Mapping[str, Any] | LineData] = (), **data: Any
) -> Proposal:
    proposal = Proposal(client=client, currency=_currency_or_default(data, client))
    _apply(proposal, {"title": title, **data}, allowed=PROPOSAL_FIELDS)
    _check_project_belongs(proposal.project, client)
    _save(proposal, by=by)
    _lines_replace(proposal, ProposalLine, lines, by=by)
    memory_capture_request(record=proposal)
    return proposal


@transaction.atomic
def proposal_update(
    *, proposal: Proposal, by: User, lines: Iterable[Mapping[str, Any] | LineData] | None = None, **data: Any
) -> Proposal:
    locked = _proposal_lock(proposal)
    _proposal_require_draft(locked)
    changed = _apply(proposal, data, allowed=PROPOSAL_FIELDS)
    _check_project_belongs(proposal.project, proposal.client)
    _save(proposal, by=by, update_fields=changed)
    if lines is not None:
        _lines_replace(proposal, ProposalLine, lines, by=by)
    memory_capture_request(record=proposal)
    return proposal


@transaction.atomic
def proposal_line_save(*, line: ProposalLine, by: User) -> ProposalLine:
    proposal = _proposal_lock(line.proposal)
    _proposal_require_draft(proposal)
    _line_save(line, proposal, by=by)
    memory_capture_request(record=proposal)
    return line


@transaction.atomic
def proposal_line_delete(*, line: ProposalLine, by: User) -> None:
    proposal = _proposal_lock(line.proposal)
    _proposal_require_draft(proposal)
    _stamp(line, by)
    line.delete()
    _document_recompute_totals(proposal, by=by)
    memory_capture_request(record=proposal)


@transaction.atomic
def proposal_transition(*, proposal: Proposal, to: str, by: User, at: dt.datetime | None = None) -> Proposal:
    """Move a proposal along its lifecycle; `at` back-dates the step (imports, the demo)."""
    locked = _proposal_lock(proposal)
    if to not in PROPOSAL_TRANSITIONS.get(locked.status, set()):
        raise ValidationError({"status": f"A {locked.status} proposal cannot become {to}."})
    if to in (Proposal.Status.PENDING_APPROVAL, Proposal.Status.SENT) and not locked.lines.exists():
        raise ValidationError({"status": "A proposal needs at least one line before it goes out."})
    now = at or timezone.now()
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


# --- Invoices -------------------------------------------------------------------------------

INVOICE_DRAFT_FIELDS = ("currency", "notes", "project", "proposal", "due_date")


def _invoice_lock(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update().get(pk=invoice.pk)


def _invoice_require_draft(invoice: Invoice) -> None:
    if invoice.status != Invoice.Status.DRAFT:
        raise ValidationError(
            f"Invoice {invoice.number} is {invoice.get_status_display().lower()}: its lines and amounts "
            "cannot change. Void it and issue a new one instead."
        )


def _invoice_links_check(invoice: Invoice) -> None:
    _check_project_belongs(invoice.project, invoice.client)
    if invoice.proposal is not None and invoice.proposal.client_id != invoice.client_id:
        raise ValidationError({"proposal": "The proposal belongs to another client."})


@transaction.atomic
def invoice_create(
    *, client: Client, by: User, lines: Iterable[Mapping[str, Any] | LineData] = (), **data: Any
) -> Invoice:
    invoice = Invoice(client=client, currency=_currency_or_default(data, client))
    _apply(invoice, data, allowed=INVOICE_DRAFT_FIELDS)
    _invoice_links_check(invoice)
    _save(invoice, by=by)
    _lines_replace(invoice, InvoiceLine, lines, by=by)
    return invoice


@transaction.atomic
def invoice_update(
    *, invoice: Invoice, by: User, lines: Iterable[Mapping[str, Any] | LineData] | None = None, **data: Any
) -> Invoice:
    locked = _invoice_lock(invoice)
    _invoice_require_draft(locked)
    changed = _apply(invoice, data, allowed=INVOICE_DRAFT_FIELDS)
    _invoice_links_check(invoice)
    _save(invoice, by=by, update_fields=changed)
    if lines is not None:
        _lines_replace(invoice, InvoiceLine, lines, by=by)
    return invoice


@transaction.atomic
def invoice_line_save(*, line: InvoiceLine, by: User) -> InvoiceLine:
    invoice = _invoice_lock(line.invoice)
    _invoice_require_draft(invoice)
    _line_save(line, invoice, by=by)
    return line


@transaction.atomic
def invoice_line_delete(*, line: InvoiceLine, by: User) -> None:
    invoice = _invoice_lock(line.invoice)
    _invoice_require_draft(invoice)
    _stamp(line, by)
    line.delete()
    _document_recompute_totals(invoice, by=by)


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


def invoice_number_format(*, prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year}-{sequence:04d}"


@transaction.atomic
def invoice_issue(*, invoice: Invoice, by: User, issue_date: dt.date | None = None) -> Invoice:
    """Draft → approved: freeze the lines and give the invoice the next gap-free number of its year."""
    locked = _invoice_lock(invoice)
    if locked.status != Invoice.Status.DRAFT:
        raise ValidationError({"status": f"Invoice {locked.number} has already been issued."})
    if not locked.lines.exists():
        raise ValidationError({"lines": "An invoice needs at least one line before it is issued."})
    workspace = Workspace.objects.filter(pk=1).first()
    if workspace is None:
        raise ValidationError("Set up the workspace (name and invoice prefix) before issuing invoices.")
    issue_date = issue_date or timezone.localdate()
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
    _save(
        locked,
        by=by,
        update_fields=["status", "issue_date", "due_date", "number_year", "number_sequence", "number"],
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
    locked = _invoice_lock(invoice)
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
    return _invoice_transition(invoice, Invoice.Status.SENT, by=by, sent_at=sent_at or timezone.now())


@transaction.atomic
def invoice_mark_paid(*, invoice: Invoice, by: User, paid_at: dt.datetime | None = None) -> Invoice:
    return _invoice_transition(invoice, Invoice.Status.PAID, by=by, paid_at=paid_at or timezone.now())


@transaction.atomic
def invoice_mark_overdue(*, invoice: Invoice, by: User) -> Invoice:
    return _invoice_transition(invoice, Invoice.Status.OVERDUE, by=by)


@transaction.atomic
def invoice_void(*, invoice: Invoice, by: User, reason: str, voided_at: dt.datetime | None = None) -> Invoice:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"void_reason": "Say why the invoice is void."})
    return _invoice_transition(
        invoice, Invoice.Status.VOID, by=by, voided_at=voided_at or timezone.now(), void_reason=reason
    )


@transaction.atomic
def invoice_reissue(*, invoice: Invoice, by: User) -> Invoice:
    """A new draft carrying the void invoice's lines, linked to it, ready to correct and issue."""
    locked = _invoice_lock(invoice)
    if locked.status != Invoice.Status.VOID:
        raise ValidationError({"status": "Only a void invoice can be re-issued."})
    if Invoice.objects.filter(replaces=locked).exists():
        raise ValidationError({"status": f"Invoice {locked.number} has already been re-issued."})
    lines = [
        LineData(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            unit=line.unit,
            service_key=line.service_key,
            tax_rate=line.tax_rate,
        )
        for line in locked.lines.all()
    ]
    draft = Invoice(
        client=locked.client,
        project=locked.project,
        proposal=locked.proposal,
        currency=locked.currency,
        notes=locked.notes,
        replaces=locked,
    )
    _save(draft, by=by)
    _lines_replace(draft, InvoiceLine, lines, by=by)
    return draft


@transaction.atomic
def invoice_delete_draft(*, invoice: Invoice, by: User) -> None:
    locked = _invoice_lock(invoice)
    _invoice_require_draft(locked)
    _delete(locked, by=by, cascade=list(locked.lines.all()))


# --- Contracts, conversations, messages, artifacts, decisions --------------------------------

CONTRACT_FIELDS = (
    "title",
    "status",
    "value",
    "currency",
    "start_date",
    "end_date",
    "signed_at",
    "terms",
    "project",
    "document",
)


@transaction.atomic
def contract_create(*, client: Client, by: User, title: str, **data: Any) -> Contract:
    contract = Contract(client=client, currency=_currency_or_default(data, client))
    _apply(contract, {"title": title, **data}, allowed=CONTRACT_FIELDS)
    _check_project_belongs(contract.project, client)
    _check_dates(contract.start_date, contract.end_date, end_field="end_date", what="end date")
    return _save(contract, by=by)


@transaction.atomic
def contract_update(*, contract: Contract, by: User, **data: Any) -> Contract:
    changed = _apply(contract, data, allowed=CONTRACT_FIELDS)
    _check_project_belongs(contract.project, contract.client)
    _check_dates(contract.start_date, contract.end_date, end_field="end_date", what="end date")
    return _save(contract, by=by, update_fields=changed)


CONVERSATION_FIELDS = ("client", "project", "subject", "channel", "last_message_at")


@transaction.atomic
def conversation_create(*, by: User, **data: Any) -> Conversation:
    conversation = Conversation()
    _apply(conversation, data, allowed=CONVERSATION_FIELDS)
    return _save(conversation, by=by)


@transaction.atomic
def conversation_update(*, conversation: Conversation, by: User, **data: Any) -> Conversation:
    changed = _apply(conversation, data, allowed=CONVERSATION_FIELDS)
    return _save(conversation, by=by, update_fields=changed)


def message_id_normalise(value: str | None) -> str | None:
    """`<abc@host>` and ` abc@host ` are the same Message-ID; keep it without brackets or blanks."""
    cleaned = (value or "").strip().strip("<>").strip()
    return cleaned or None


MESSAGE_FIELDS = (
    "direction",
    "channel",
    "message_id",
    "in_reply_to",
    "references",
    "from_email",
    "from_name",
    "to",
    "cc",
    "subject",
    "body_text",
    "body_html",
    "sent_at",
)


@transaction.atomic
def message_record(*, conversation: Conversation, by: User, **data: Any) -> tuple[Message, bool]:
    """Store a message once per Message-ID: returns (message, created). A repeat is not stored again."""
    message_id = message_id_normalise(data.pop("message_id", None))
    if message_id:
        existing = Message.objects.filter(message_id=message_id).first()
        if existing:
            return existing, False
    message = Message(conversation=conversation, message_id=message_id)
    if "from_email" in data:
        data["from_email"] = email_normalise(data["from_email"], field="from_email")
    for field in ("to", "cc"):
        if field in data:
            data[field] = [email_normalise(address, field=field) for address in data[field] or []]
    _apply(message, data, allowed=MESSAGE_FIELDS)
    if message.channel == "email" and not message.message_id:
        raise ValidationError({"message_id": "An email message needs a Message-ID."})
    # Two deliveries of one mail may race; the unique index decides and the loser reads the winner.
    try:
        with transaction.atomic():
            _save(message, by=by)
    except IntegrityError:
        existing = (
            Message.objects.filter(message_id=message.message_id).first() if message.message_id else None
        )
        if existing is None:
            raise
        return existing, False
    memory_capture_request(record=message)
    stamp = message.sent_at or message.created_at
    if conversation.last_message_at is None or stamp > conversation.last_message_at:
        conversation.last_message_at = stamp
        _save(conversation, by=by, update_fields=["last_message_at"])
    return message, True


@transaction.atomic
def artifact_store(
    *,
    by: User,
    content: bytes,
    filename: str,
    mime_type: str = "application/octet-stream",
    client: Client | None = None,
    project: Project | None = None,
    extracted_text: str = "",
) -> tuple[Artifact, bool]:
    """Store a file once per content: returns (artifact, created)."""
    digest = hashlib.sha256(content).hexdigest()
    existing = Artifact.objects.filter(sha256=digest).first()
    if existing:
        return existing, False
    artifact = Artifact(
        filename=(filename or "file").strip()[:255],
        sha256=digest,
        mime_type=mime_type or "application/octet-stream",
        size=len(content),
        client=client,
        project=project,
        extracted_text=extracted_text,
    )
    artifact.file.save(f"{digest[:16]}-{artifact.filename}", ContentFile(content), save=False)
    _save(artifact, by=by)
    if artifact.extracted_text.strip():
        memory_capture_request(record=artifact)
    return artifact, True


@transaction.atomic
def decision_record(
    *,
    by: User,
    title: str,
    rationale: str = "",
    subject: models.Model | None = None,
    client: Client | None = None,
    project: Project | None = None,
    decided_at: dt.datetime | None = None,
) -> Decision:
    decision = Decision(
        title=(title or "").strip(),
        rationale=rationale,
        client=client,
        project=project,
        decided_by=by if getattr(by, "pk", None) else None,
        decided_at=decided_at or timezone.now(),
    )
    if not decision.title:
        raise ValidationError({"title": "Say what was decided."})
    if subject is not None:
        decision.subject = subject
    _save(decision, by=by)
    memory_capture_request(record=decision)
    return decision


# --- Notes ----------------------------------------------------------------------------------

NOTE_FIELDS = ("client", "project", "text", "pinned")


def _note_check(note: Note) -> None:
    note.text = (note.text or "").strip()
    if not note.text:
        raise ValidationError({"text": "Write the note."})
    if note.project is not None:
        if note.client is None:
            note.client = note.project.client
        elif note.project.client_id != note.client.pk:
            raise ValidationError({"project": "The project belongs to another client."})


@transaction.atomic
def note_create(*, by: User, text: str, **data: Any) -> Note:
    """A note for memory; pinned notes become canonical facts."""
    note = Note(created_by=by if getattr(by, "pk", None) else None)
    _apply(note, {"text": text, **data}, allowed=NOTE_FIELDS)
    _note_check(note)
    _save(note, by=by)
    memory_capture_request(record=note)
    return note


@transaction.atomic
def note_update(*, note: Note, by: User, **data: Any) -> Note:
    changed = _apply(note, data, allowed=NOTE_FIELDS)
    _note_check(note)
    fields = set(changed) | ({"client"} if "project" in changed else set())
    _save(note, by=by, update_fields=fields)
    if fields:
        memory_capture_request(record=note)
    return note


@transaction.atomic
def note_delete(*, note: Note, by: User) -> None:
    """Delete a note and the memory made from it (its history keeps what it said)."""
    memory_forget_source(record=note)
    _stamp(note, by)
    note.delete()


# --- Pricing rules and action templates ------------------------------------------------------

PRICING_FIELDS = ("name", "description", "unit", "unit_price", "currency", "min_units", "active")


@transaction.atomic
def pricing_rule_upsert(*, service_key: str, by: User, **data: Any) -> tuple[PricingRule, bool]:
    """Create or update the rule of a service; returns (rule, changed). Unchanged data writes nothing."""
    rule = PricingRule.objects.select_for_update().filter(service_key=service_key).first()
    created = rule is None
    rule = rule or PricingRule(service_key=service_key)
    before = {field: getattr(rule, field) for field in data if field in PRICING_FIELDS}
    _apply(rule, data, allowed=PRICING_FIELDS)
    after = {field: getattr(rule, field) for field in before}
    if not created and before == after:
        return rule, False
    _save(rule, by=by, update_fields=None if created else list(data))
    return rule, True


TEMPLATE_FIELDS = ("name", "kind", "subject", "body", "active")


@transaction.atomic
def action_template_upsert(*, key: str, by: User, **data: Any) -> tuple[ActionTemplate, bool]:
    template = ActionTemplate.objects.select_for_update().filter(key=key).first()
    created = template is None
    template = template or ActionTemplate(key=key)
    before = {field: getattr(template, field) for field in data if field in TEMPLATE_FIELDS}
    _apply(template, data, allowed=TEMPLATE_FIELDS)
    if not created and before == {field: getattr(template, field) for field in before}:
        return template, False
    _save(template, by=by, update_fields=None if created else list(data))
    return template, True


# --- API tokens -----------------------------------------------------------------------------


def api_token_hash(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_check(*, name: str, expires_at: dt.datetime | None) -> str:
    """Validate a new token's name and expiry; returns the cleaned name."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after where it will be used."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    return name


@transaction.atomic
def api_token_create(
    *, user: AbstractBaseUser, name: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and never shown again."""
    name = api_token_check(name=name, expires_at=expires_at)
    raw = settings.AIOS_API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[: len(settings.AIOS_API_TOKEN_PREFIX) + 6],
        token_hash=api_token_hash(raw),
        expires_at=expires_at,
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The live token for `raw`, with its user, or None. Records when it was last used."""
    if not raw or not raw.startswith(settings.AIOS_API_TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=api_token_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    # One write a minute at most: last-used time is for the operator's eyes, not an audit trail.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(seconds=60):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- Deleting -------------------------------------------------------------------------------
# Records that carry business history (a client with invoices, a project with conversations) are
# never deleted: the operator marks them past or cancelled instead. Only mistakes and drafts go.


def _delete_blockers(record: models.Model) -> dict[str, str]:
    """What keeps `record` from being deleted: {relation: human reason}. Empty means it may go."""
    blockers: dict[str, str] = {}
    if isinstance(record, Client):
        relations = (
            "projects",
            "proposals",
            "invoices",
            "contracts",
            "conversations",
            "decisions",
            "artifacts",
        )
    elif isinstance(record, Project):
        relations = ("proposals", "invoices", "contracts", "conversations", "decisions", "artifacts")
    elif isinstance(record, Proposal):
        relations = ("invoices",)
        if record.status != Proposal.Status.DRAFT:
            blockers["status"] = f"it is {record.get_status_display().lower()}; only drafts can be deleted"
    elif isinstance(record, Invoice):
        relations = ()
        if record.status != Invoice.Status.DRAFT:
            blockers["status"] = f"{record.number} is issued; void it instead"
    elif isinstance(record, Contract):
        relations = ()
        if record.status != Contract.Status.DRAFT:
            blockers["status"] = f"it is {record.get_status_display().lower()}; only drafts can be deleted"
    else:
        relations = ()
    for relation in relations:
        if getattr(record, relation).exists():
            blockers[relation] = (
                f"it has {record._meta.get_field(relation).related_model._meta.verbose_name_plural}"
            )
    return blockers


def record_delete_check(*, record: models.Model) -> None:
    """Raise a ValidationError saying why `record` cannot be deleted, if it cannot."""
    blockers = _delete_blockers(record)
    if blockers:
        advice = {
            Client: " Set its status to past instead.",
            Project: " Set its status to cancelled or completed instead.",
        }.get(type(record), "")
        raise ValidationError(f"{record} cannot be deleted: {'; '.join(blockers.values())}.{advice}")


def _delete(record: models.Model, *, by: User, cascade: Iterable[models.Model] = ()) -> None:
    """Delete `record` and the rows that belong to it, each with a history row naming `by`."""
    record_delete_check(record=record)
    for child in cascade:
        _stamp(child, by)
        child.delete()
    _stamp(record, by)
    record.delete()


@transaction.atomic
def client_delete(*, client: Client, by: User) -> None:
    client = Client.objects.select_for_update().get(pk=client.pk)
    _delete(client, by=by, cascade=list(client.contacts.all()))


@transaction.atomic
def contact_delete(*, contact: Contact, by: User) -> None:
    _delete(contact, by=by)


@transaction.atomic
def project_delete(*, project: Project, by: User) -> None:
    project = Project.objects.select_for_update().get(pk=project.pk)
    _delete(project, by=by, cascade=list(project.deliverables.all()))


@transaction.atomic
def deliverable_delete(*, deliverable: Deliverable, by: User) -> None:
    _delete(deliverable, by=by)


@transaction.atomic
def proposal_delete_draft(*, proposal: Proposal, by: User) -> None:
    locked = _proposal_lock(proposal)
    _delete(locked, by=by, cascade=list(locked.lines.all()))


@transaction.atomic
def contract_delete_draft(*, contract: Contract, by: User) -> None:
    _delete(Contract.objects.select_for_update().get(pk=contract.pk), by=by)


@transaction.atomic
def pricing_rule_delete(*, rule: PricingRule, by: User) -> None:
    _delete(rule, by=by)


@transaction.atomic
def action_template_delete(*, template: ActionTemplate, by: User) -> None:
    _delete(template, by=by)


# --- Changes made by the ledger's committers, and their reversal --------------------------------


@dataclass(frozen=True)
class _Updatable:
    model: type[models.Model]
    update: Any  # the entity's update service
    argument: str  # its keyword for the record
    fields: tuple[str, ...]


def _updatable() -> dict[str, _Updatable]:
    return {
        "core.client": _Updatable(Client, client_update, "client", CLIENT_FIELDS),
        "core.contact": _Updatable(Contact, contact_update, "contact", CONTACT_FIELDS),
        "core.project": _Updatable(Project, project_update, "project", PROJECT_FIELDS),
        "core.deliverable": _Updatable(Deliverable, deliverable_update, "deliverable", DELIVERABLE_FIELDS),
    }


def _updatable_get(label: str) -> _Updatable:
    entry = _updatable().get(label)
    if entry is None:
        allowed = ", ".join(sorted(_updatable()))
        raise ValidationError({"model": f"{label!r} cannot be changed this way; one of {allowed}."})
    return entry


def _latest_history_id(record: models.Model) -> int | None:
    latest = record.history.order_by("-history_id").values_list("history_id", flat=True).first()
    return latest


@dataclass(frozen=True)
class RecordChange:
    """One record change with the history rows before and after it (what a reversal needs)."""

    model: str
    pk: int
    before_history_id: int | None
    history_id: int | None
    fields: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "pk": self.pk,
            "before_history_id": self.before_history_id,
            "history_id": self.history_id,
            "fields": self.fields,
        }


@transaction.atomic
def record_update(*, label: str, pk: int, fields: Mapping[str, Any], by: User) -> RecordChange:
    """Change fields of a client, contact, project or deliverable through its own update service."""
    entry = _updatable_get(label)
    record = entry.model.objects.select_for_update().filter(pk=pk).first()
    if record is None:
        raise ValidationError({"pk": f"{label} #{pk} does not exist."})
    before = _latest_history_id(record)
    entry.update(**{entry.argument: record, "by": by}, **dict(fields))
    return RecordChange(label, pk, before, _latest_history_id(record), dict(fields))


def _history_value(row: models.Model, field: str) -> Any:
    value = getattr(row, field)
    return str(value) if isinstance(value, Decimal) else value


@transaction.atomic
def record_revert(*, label: str, pk: int, history_id: int, by: User) -> RecordChange:
    """Put a record back as it was before the change that wrote history row `history_id`.

    Refused when the record changed again since: restoring then would silently undo the later change.
    """
    entry = _updatable_get(label)
    record = entry.model.objects.select_for_update().filter(pk=pk).first()
    if record is None:
        raise ValidationError({"pk": f"{label} #{pk} no longer exists; there is nothing to revert."})
    after = record.history.filter(history_id=history_id).first()
    if after is None:
        raise ValidationError({"history_id": f"{label} #{pk} has no history row {history_id}."})
    latest = _latest_history_id(record)
    if latest != history_id:
        raise ValidationError(
            f"{record} changed again after this change (history row {latest}); revert the later change "
            "first, or edit the record by hand."
        )
    before = after.prev_record
    if before is None:
        raise ValidationError(f"{record} has no earlier version to go back to.")
    restore = {
        field: _history_value(before, field)
        for field in entry.fields
        if _history_value(before, field) != _history_value(after, field)
    }
    entry.update(**{entry.argument: record, "by": by}, **restore)
    return RecordChange(label, pk, latest, _latest_history_id(record), restore)


def record_version_fields(*, label: str, history_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) field values around the change that wrote `history_id` (for pages and agents)."""
    entry = _updatable_get(label)
    after = entry.model.history.filter(history_id=history_id).first()
    if after is None:
        raise ValidationError({"history_id": f"No history row {history_id} for {label}."})
    before = after.prev_record
    fields = entry.fields
    return (
        {field: _history_value(before, field) for field in fields} if before is not None else {},
        {field: _history_value(after, field) for field in fields},
    )


def _deletable() -> dict[str, tuple[type[models.Model], Any, str]]:
    return {
        "core.client": (Client, client_delete, "client"),
        "core.contact": (Contact, contact_delete, "contact"),
        "core.project": (Project, project_delete, "project"),
        "core.deliverable": (Deliverable, deliverable_delete, "deliverable"),
        "core.note": (Note, note_delete, "note"),
    }


def record_delete(*, label: str, pk: int, by: User) -> None:
    """Delete a record through its own delete service (which refuses records with business history)."""
    entry = _deletable().get(label)
    if entry is None:
        raise ValidationError({"model": f"{label!r} cannot be deleted this way."})
    model, delete, argument = entry
    record = model.objects.filter(pk=pk).first()
    if record is None:
        raise ValidationError({"pk": f"{label} #{pk} does not exist."})
    delete(**{argument: record, "by": by})


@transaction.atomic
def client_for_sender(*, email: str, name: str = "", company: str = "", by: User) -> tuple[Client, bool]:
    """The client a sender belongs to (by contact or client address), or a new lead with them as its
    primary contact: (client, created)."""
    from core.selectors import client_for_address

    address = email_normalise(email, field="email", required=True)
    client = client_for_address(email=address)
    if client is not None:
        return client, False
    person = (name or "").strip() or address.split("@")[0]
    organisation = (company or "").strip()
    client = client_create(
        by=by,
        name=organisation or person,
        kind=Client.Kind.ORGANISATION if organisation else Client.Kind.PERSON,
        status=Client.Status.LEAD,
        email=address,
    )
    contact_create(client=client, by=by, name=person, email=address, is_primary=True)
    return client, True


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
    its lines, then pending approval → sent, each step in its history."""
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
    return proposal_transition(proposal=proposal, to=Proposal.Status.SENT, by=by, at=sent_at)
