"""Reads of money in for the phone pages and the API: payments with their allocations, bank entries by
whether they wait for the operator, overdue invoices with the reminders they had, and the phone page's
overview. Each list reads a page in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.db.models import DecimalField, F, Prefetch, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from core import selectors as core_selectors
from core.models import BankEntry, Invoice, InvoiceReminder, Payment, PaymentAllocation

MONEY = DecimalField(max_digits=14, decimal_places=2)


class BankEntryState(StrEnum):
    """Which bank entries a list shows. Unmatched: credits no payment was proposed for (ambiguous or
    without a match), the ones waiting for the operator. Matched: a payment proposed or recorded."""

    UNMATCHED = "unmatched"
    MATCHED = "matched"
    ALL = "all"


def payment_list(*, client_id: int | None = None, source: str | None = None) -> QuerySet[Payment]:
    """Payments, the latest received first, with their client, their allocations (and each one's invoice),
    `allocated` and `unallocated` (the client's credit from it): two queries per page."""
    payments = (
        Payment.objects.select_related("client")
        .prefetch_related(
            Prefetch(
                "allocations",
                queryset=PaymentAllocation.objects.select_related("invoice").order_by("pk"),
            )
        )
        .annotate(allocated=Coalesce(Sum("allocations__amount"), Value(Decimal("0.00")), output_field=MONEY))
        .annotate(unallocated=F("amount") - F("allocated"))
        .order_by("-received_on", "-pk")
    )
    if client_id is not None:
        payments = payments.filter(client_id=client_id)
    if source:
        payments = payments.filter(source=source)
    return payments


def bank_entry_list(*, state: str = BankEntryState.UNMATCHED) -> QuerySet[BankEntry]:
    """Bank entries with the payment recorded from each, if any. Those waiting for the operator are
    oldest first (the order they should be worked through); the others the latest booked first."""
    if state == BankEntryState.UNMATCHED:
        entries = core_selectors.bank_entries_waiting()
    else:
        entries = BankEntry.objects.order_by("-booked_on", "-pk")
        if state == BankEntryState.MATCHED:
            entries = entries.filter(status__in=(BankEntry.Status.PROPOSED, BankEntry.Status.RECORDED))
    return entries.select_related("payment")


def bank_entry_candidates(entry: BankEntry) -> list[dict[str, Any]]:
    """The invoices the matcher stored for an entry: with id and amount where it allocated them, else the
    numbers it hesitated between (an ambiguous credit)."""
    match = entry.match if isinstance(entry.match, dict) else {}
    allocations = [item for item in match.get("allocations") or [] if isinstance(item, dict)]
    if allocations:
        return [
            {
                "number": str(item.get("number", "")),
                "invoice_id": item.get("invoice_id"),
                "amount": item.get("amount"),
            }
            for item in allocations
        ]
    return [
        {"number": str(number), "invoice_id": None, "amount": None} for number in match.get("invoices") or []
    ]


def invoices_overdue_open() -> QuerySet[Invoice]:
    """Overdue invoices, the longest overdue first, with what is still owed (`open_amount`), their client
    and their reminders: two queries."""
    return (
        core_selectors.invoices_with_open_amount()
        .filter(status=Invoice.Status.OVERDUE)
        .select_related("client")
        .prefetch_related(
            Prefetch("reminders", queryset=InvoiceReminder.objects.order_by("created_at", "pk"))
        )
        .order_by("due_date", "pk")
    )


def overdue_row(invoice: Invoice, *, today: dt.date) -> dict[str, Any]:
    """What the phone shows of an overdue invoice: days overdue and the last reminder sent."""
    reminders = list(invoice.reminders.all())
    sent = [reminder for reminder in reminders if reminder.status == InvoiceReminder.Status.SENT]
    waiting = [
        reminder
        for reminder in reminders
        if reminder.status in (InvoiceReminder.Status.PROPOSED, InvoiceReminder.Status.SENDING)
    ]
    return {
        "invoice": invoice,
        "days_overdue": (today - invoice.due_date).days if invoice.due_date else 0,
        "last_sent": sent[-1] if sent else None,
        "waiting": waiting[-1] if waiting else None,
    }


def money_overview(*, today: dt.date, limit: int = 20) -> dict[str, Any]:
    """The phone page: aging per currency, overdue invoices, credits waiting for the operator and the
    latest payments, each list cut at `limit` with its full count. A fixed number of queries."""
    overdue = invoices_overdue_open()
    waiting = bank_entry_list(state=BankEntryState.UNMATCHED)
    return {
        "aging": core_selectors.receivables_aging(today=today),
        "overdue": [overdue_row(invoice, today=today) for invoice in overdue[:limit]],
        "overdue_count": overdue.count(),
        "unmatched": [
            {"entry": entry, "candidates": bank_entry_candidates(entry)} for entry in waiting[:limit]
        ],
        "unmatched_count": waiting.count(),
        "payments": list(payment_list()[:limit]),
    }
