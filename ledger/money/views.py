"""The money pages, phone first (`/money/`): receivables aging per currency, overdue invoices, bank credits
waiting for the operator and the latest payments; one invoice's key facts and timeline.

Staff only, like the approval pages. Read-only: a credit waiting for the operator links to its bank entry's
"Propose a payment" form, which submits a ledger task whose payment waits for approval — no page here
records a payment or changes a record.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core import clock
from core import selectors as core_selectors
from core.http import staff_required
from core.models import Invoice
from ledger.money import selectors
from ledger.money.timeline import invoice_timeline

LIST_LIMIT = 20

staff_only = staff_required("The money pages are for staff users.")


@require_GET
@staff_only
def money_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate(clock.now())
    overview = selectors.money_overview(today=today, limit=LIST_LIMIT)
    return render(request, "money/overview.html", {"money": overview, "today": today, "limit": LIST_LIMIT})


@require_GET
@staff_only
def money_invoice_page(request: HttpRequest, invoice_id: int) -> HttpResponse:
    try:
        timeline = invoice_timeline(invoice_id=invoice_id)
    except Invoice.DoesNotExist:
        raise Http404("No invoice has this id.") from None
    invoice = timeline.invoice
    today = timezone.localdate(clock.now())
    overdue = invoice.status == Invoice.Status.OVERDUE and invoice.due_date is not None
    return render(
        request,
        "money/invoice.html",
        {
            "invoice": invoice,
            "events": timeline.events,
            "open_amount": core_selectors.invoice_open_amount(invoice=invoice),
            "days_overdue": (today - invoice.due_date).days if overdue else None,
        },
    )
