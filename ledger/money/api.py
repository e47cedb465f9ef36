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

router = Router()
invoices = Router(tags=["invoices"])
payments = Router(tags=["payments"])
bank_entries = Router(tags=["bank entries"])


@invoices.get("/{invoice_id}/timeline", response=list[TimelineEventOut])
def get_invoice_timeline(request: HttpRequest, invoice_id: RecordId):
    """The invoice's life, oldest first: created, issued, document, sent, overdue, reminders, payments,
    paid, void and credit note, reminders held or resumed, and the ledger actions naming it — each with
    who did it and the task (`task_id`)."""
    try:
        return invoice_timeline(invoice_id=invoice_id).events
    except Invoice.DoesNotExist:
        raise HttpError(404, f"There is no invoice with id {invoice_id}.") from None


@payments.get("", response=list[PaymentOut])
@paginated
def list_payments(request: HttpRequest, filters: Query[PaymentFilters]):
    """Payments, the latest received first, each with its allocations to invoices and the part left as
    the client's credit."""
    return selectors.payment_list(**filters.model_dump())


@bank_entries.get("", response=list[BankEntryOut])
@paginated
def list_bank_entries(request: HttpRequest, filters: Query[BankEntryFilters]):
    """Booked bank lines with the candidates the matcher stored. `unmatched` (the default): credits
    waiting for the operator, oldest first; `matched`: a payment proposed or recorded; `all`."""
    return selectors.bank_entry_list(state=filters.state)


router.add_router("/invoices", invoices)
router.add_router("/payments", payments)
router.add_router("/bank-entries", bank_entries)
