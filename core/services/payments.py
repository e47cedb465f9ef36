"""Money in: payments, their allocation to invoices, payer accounts, bank statements, and invoices brought
in from another tool (ADR 0016).

Recording or allocating a payment is a money action: callers are the ledger's committers (after the
operator approved) and the operator's own back office; agents and connectors only propose.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from core import selectors
from core.dbcopy import rows_insert_new
from core.matching import iban_compact, number_parts
from core.models import (
    Artifact,
    BankEntry,
    BankStatement,
    Client,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    PayerAccount,
    Payment,
    PaymentAllocation,
)
from core.services._common import User, _save, currency_normalise, decimal_parse
from core.services.lines import _lines_replace
from core.services.money import _locked, invoice_mark_paid

PAYMENT_FIELDS = ("method", "reference", "payer_name", "payer_iban", "source", "notes")


@dataclass(frozen=True)
class AllocationData:
    invoice: Invoice
    amount: Decimal


def _money(value: Any, *, field: str) -> Decimal:
    amount = decimal_parse(value, field=field)
    if amount is None or amount <= 0:
        raise ValidationError({field: "Enter an amount greater than zero."})
    return amount


def _paid_at(received_on: dt.date) -> dt.datetime:
    """An invoice is paid on the day the money arrived (noon in the workspace's zone, so the date is the
    same wherever it is read)."""
    return timezone.make_aware(dt.datetime.combine(received_on, dt.time(12)))


def _payment_unallocated(payment: Payment) -> Decimal:
    allocated = sum((row.amount for row in payment.allocations.all()), Decimal("0.00"))
    return payment.amount - allocated


@transaction.atomic
def payment_allocate(*, payment: Payment, invoice: Invoice, amount: Any, by: User) -> PaymentAllocation:
    """Settle (part of) an invoice from a payment. The invoice becomes paid, with `paid_at` the payment's
    date, once its allocations cover its total; a partial allocation leaves the rest open."""
    amount = _money(amount, field="amount")
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    locked = _locked(invoice)
    if locked.client_id != payment.client_id:
        raise ValidationError({"invoice": f"Invoice {locked.number} belongs to another client."})
    if locked.currency != payment.currency:
        currencies = f"{locked.currency}, the payment in {payment.currency}"
        raise ValidationError({"invoice": f"Invoice {locked.number} is in {currencies}."})
    if locked.status not in selectors.OPEN_INVOICE_STATUSES:
        raise ValidationError(
            {"invoice": f"Invoice {locked.number or locked.pk} is {locked.status}, not open."}
        )
    still_open = selectors.invoice_open_amount(invoice=locked)
    if amount > still_open:
        owed = f"{still_open} {locked.currency}"
        raise ValidationError({"amount": f"Invoice {locked.number} has {owed} open, less than {amount}."})
    left = _payment_unallocated(payment)
    if amount > left:
        raise ValidationError({"amount": f"The payment has only {left} {payment.currency} left to allocate."})
    allocation = PaymentAllocation(payment=payment, invoice=locked, amount=amount)
    _save(allocation, by=by)
    if amount == still_open:
        invoice_mark_paid(invoice=locked, by=by, paid_at=_paid_at(payment.received_on))
    invoice.refresh_from_db()
    return allocation


@transaction.atomic
def payment_record(
    *,
    client: Client,
    amount: Any,
    currency: str,
    received_on: dt.date,
    by: User,
    allocations: Iterable[AllocationData | Mapping[str, Any]] = (),
    bank_entry: BankEntry | None = None,
    **data: Any,
) -> Payment:
    """Record money received from a client and allocate it; whatever is not allocated stays the client's
    credit. A payment from a bank entry marks the entry recorded and remembers the payer's account."""
    unknown = set(data) - set(PAYMENT_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown payment fields: {', '.join(sorted(unknown))}.")
    payment = Payment(
        client=client,
        amount=_money(amount, field="amount"),
        currency=currency_normalise(currency),
        received_on=received_on,
        bank_entry=bank_entry,
        **data,
    )
    payment.payer_iban = iban_compact(payment.payer_iban)
    if bank_entry is not None:
        entry = BankEntry.objects.select_for_update().get(pk=bank_entry.pk)
        if Payment.objects.filter(bank_entry=entry).exists():
            raise ValidationError({"bank_entry": "A payment has already been recorded for this bank entry."})
        if entry.amount != payment.amount or entry.currency != payment.currency:
            raise ValidationError({"amount": "The payment must equal the bank entry it comes from."})
        payment.source = Payment.Source.BANK_STATEMENT
    _save(payment, by=by)
    for allocation in allocations:
        if isinstance(allocation, Mapping):
            allocation = AllocationData(invoice=allocation["invoice"], amount=allocation["amount"])
        payment_allocate(payment=payment, invoice=allocation.invoice, amount=allocation.amount, by=by)
    if bank_entry is not None:
        BankEntry.objects.filter(pk=bank_entry.pk).update(status=BankEntry.Status.RECORDED)
    if payment.payer_iban or payment.payer_name:
        payer_account_remember(client=client, iban=payment.payer_iban, name=payment.payer_name, by=by)
    return payment


@transaction.atomic
def payer_account_remember(
    *, client: Client, iban: str = "", name: str = "", by: User
) -> PayerAccount | None:
    """Know this IBAN (or, without one, this name) as paying for the client. An IBAN already known for
    another client stays theirs: the operator changes that in the back office, never a transfer."""
    iban = iban_compact(iban)
    name = (name or "").strip()[:200]
    if iban:
        existing = PayerAccount.objects.filter(iban=iban).first()
        if existing is not None:
            return existing if existing.client_id == client.pk else None
        account = PayerAccount(client=client, iban=iban, name=name)
    elif name:
        existing = PayerAccount.objects.filter(client=client, iban="", name__iexact=name).first()
        if existing is not None or name.lower() == client.name.lower():
            return existing
        account = PayerAccount(client=client, name=name)
    else:
        return None
    _save(account, by=by)
    return account


# --- Bank statements ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryData:
    fingerprint: str
    entry_ref: str
    booked_on: dt.date
    amount: Decimal
    currency: str
    counterparty: str
    counterparty_iban: str
    remittance: str
    match_kind: str
    match: dict
    # "proposed" when the caller proposes its payment in the same transaction; by default a credit waits
    # for the operator (open) and a debit is ignored.
    status: str = ""


ENTRY_FIELDS = (
    "statement_id",
    "position",
    "fingerprint",
    "entry_ref",
    "booked_on",
    "amount",
    "currency",
    "counterparty",
    "counterparty_iban",
    "remittance",
    "match_kind",
    "match",
    "status",
)


@transaction.atomic
def bank_statement_store(
    *,
    sha256: str,
    filename: str,
    format: str,  # noqa: A002 - the statement's file format
    account: str,
    statement_ref: str,
    entries: list[EntryData],
    by: User,
    artifact: Artifact | None = None,
) -> tuple[BankStatement, list[BankEntry], bool]:
    """Store a statement and its new entries in one transaction: (statement, new entries, created).
    The same file again creates nothing; entries already known from an overlapping statement are
    counted, not stored twice. The entries are written with COPY (core.dbcopy): a statement has
    thousands."""
    existing = BankStatement.objects.filter(sha256=sha256).first()
    if existing is not None:
        return existing, [], False
    statement = BankStatement(
        sha256=sha256,
        filename=filename[:255],
        format=format,
        account=account[:64],
        statement_ref=statement_ref[:100],
        artifact=artifact,
    )
    _save(statement, by=by)
    rows = [
        BankEntry(
            statement=statement,
            position=position,
            fingerprint=entry.fingerprint,
            entry_ref=entry.entry_ref[:140],
            booked_on=entry.booked_on,
            amount=entry.amount,
            currency=entry.currency,
            counterparty=entry.counterparty[:200],
            counterparty_iban=entry.counterparty_iban[:34],
            remittance=entry.remittance,
            match_kind=entry.match_kind,
            match=entry.match,
            status=entry.status or (BankEntry.Status.OPEN if entry.amount > 0 else BankEntry.Status.IGNORED),
        )
        for position, entry in enumerate(entries, start=1)
    ]
    # An entry whose fingerprint is already stored (an overlapping statement, or one a concurrent import
    # has just written) is skipped, not refused.
    inserted = dict(
        rows_insert_new(
            model=BankEntry,
            fields=ENTRY_FIELDS,
            rows=([getattr(row, name) for name in ENTRY_FIELDS] for row in rows),
            returning=("fingerprint", "pk"),
        )
    )
    created = [row for row in rows if row.fingerprint in inserted]
    for row in created:
        row.pk = inserted[row.fingerprint]
        row._state.adding, row._state.db = False, statement._state.db
    statement.entries_count = len(created)
    statement.duplicates_count = len(entries) - len(created)
    statement.save(update_fields=["entries_count", "duplicates_count", "updated_at"])
    return statement, created, True


# --- Invoices brought in from another tool --------------------------------------------------------


def _sequence_at_least(year: int, number: int) -> None:
    """Make the year's sequence continue after `number` (never move it back)."""
    table = InvoiceSequence._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (year, last_number) VALUES (%s, %s) "  # noqa: S608 - table name is ours
            f"ON CONFLICT (year) DO UPDATE SET "
            f"last_number = GREATEST({table}.last_number, EXCLUDED.last_number)",
            [year, number],
        )


@transaction.atomic
def invoice_import_issued(
    *,
    client: Client,
    number: str,
    total: Any,
    currency: str,
    issue_date: dt.date,
    due_date: dt.date,
    by: User,
    description: str = "",
) -> tuple[Invoice, bool]:
    """An invoice issued in another tool, kept under its number (one line for its total, as the other
    tool's lines are not known): (invoice, created). The workspace's sequence of that year continues after
    the highest number brought in. The same number again is found, not duplicated."""
    number = (number or "").strip().upper()
    parts = number_parts(number)
    if parts is None or not re.fullmatch(r"[A-Z0-9][A-Z0-9\-_/ .]*", number):
        raise ValidationError({"number": f"{number!r} is not an invoice number with a year and a sequence."})
    _, year, sequence = parts
    existing = Invoice.objects.filter(number=number).first()
    if existing is not None:
        if existing.client_id != client.pk:
            raise ValidationError({"number": f"Invoice {number} already exists for another client."})
        return existing, False
    if Invoice.objects.filter(number_year=year, number_sequence=sequence).exists():
        raise ValidationError({"number": f"Another invoice already has sequence {sequence} of {year}."})
    if due_date < issue_date:
        raise ValidationError({"due_date": "The due date is before the issue date."})
    invoice = Invoice(client=client, currency=currency_normalise(currency))
    _save(invoice, by=by)
    amount = _money(total, field="total")
    _lines_replace(
        invoice,
        InvoiceLine,
        [{"description": description or f"Invoice {number}", "quantity": 1, "unit_price": amount}],
        by=by,
    )
    invoice.refresh_from_db()
    invoice.status = Invoice.Status.APPROVED
    invoice.number, invoice.number_year, invoice.number_sequence = number, year, sequence
    invoice.issue_date, invoice.due_date = issue_date, due_date
    _save(
        invoice,
        by=by,
        update_fields=["status", "number", "number_year", "number_sequence", "issue_date", "due_date"],
    )
    _sequence_at_least(year, sequence)
    return invoice, True
