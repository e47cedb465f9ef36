"""The money API, mounted at /api/v1/ through ledger/api.py: an invoice's timeline, payments with their
allocations, and bank entries by whether they wait for the operator. Read-only: a payment is recorded only
by an approved `payment.record` action (ADR 0016)."""

from django.http import HttpRequest
from ninja import Query, Router
from ninja.errors import HttpError

from core.api_base import paginated
from core.models import Invoice
from core.schemas import RecordId
from ledger.money import selectors
from ledger.money.schemas import (
    BankEntryFilters,
    BankEntryOut,
    PaymentFilters,
    PaymentOut,
    TimelineEventOut,
)
from ledger.money.timeline import invoice_timeline

# One operation for each kind of thing (an invoice's timeline, payments, bank entries): each carries its
# whole path and its tag, rather than a router apiece.
router = Router()


@router.get("/invoices/{invoice_id}/timeline", response=list[TimelineEventOut], tags=["invoices"])
def get_invoice_timeline(request: HttpRequest, invoice_id: RecordId):
    """The invoice's life, oldest first: created, issued, document, sent, overdue, reminders, payments,
    paid, void and credit note, reminders held or resumed, and the ledger actions naming it — each with
    who did it and the task (`task_id`)."""
    try:
        return invoice_timeline(invoice_id=invoice_id).events
    except Invoice.DoesNotExist:
        raise HttpError(404, f"There is no invoice with id {invoice_id}.") from None


@router.get("/payments", response=list[PaymentOut], tags=["payments"])
@paginated
def list_payments(request: HttpRequest, filters: Query[PaymentFilters]):
    """Payments, the latest received first, each with its allocations to invoices and the part left as
    the client's credit."""
    return selectors.payment_list(**filters.model_dump())


@router.get("/bank-entries", response=list[BankEntryOut], tags=["bank entries"])
@paginated
def list_bank_entries(request: HttpRequest, filters: Query[BankEntryFilters]):
    """Booked bank lines with the candidates the matcher stored. `unmatched` (the default): credits
    waiting for the operator, oldest first; `matched`: a payment proposed or recorded; `all`."""
    return selectors.bank_entry_list(state=filters.state)
