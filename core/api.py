"""The JSON API of the canonical records, mounted at /api/v1/ by aios/api.py.

Endpoints parse input, call one service with `by=request.user` and return the record. Lists are
paginated with `limit` and `offset` and read a page in a fixed number of queries. Each kind of record
has the same four operations (core/api_base.py); what else it offers is written out below them.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router

from core import clock, selectors, services
from core.api_base import errors_named, paginated, record_router
from core.invoicing import documents
from core.models import Client, Contact, CreditNote, Invoice, Project, Proposal
from core.schemas import (
    AgingRow,
    InvoiceIssueIn,
    InvoiceOut,
    InvoicePaidIn,
    InvoiceSentIn,
    InvoiceVoidIn,
    OverdueInvoiceOut,
    ProposalOut,
    ProposalTransitionIn,
    RecordId,
    changes,
)

router = Router()
# The key is the int ninja uses for its own 200, so the two merge: a string "200" beside it would put the
# key in the document twice, which JSON parsers forgive and Swagger UI's YAML parser refuses.
PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "The PDF.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}

# --- Clients, contacts, projects ---------------------------------------------------------------

record_router(router, model=Client, module=__name__)
record_router(router, model=Contact, module=__name__)
record_router(router, model=Project, module=__name__)

# --- Proposals -----------------------------------------------------------------------------------

proposals = record_router(
    router,
    model=Proposal,
    module=__name__,
    prefetch=("lines",),
    update_description="Sent `lines` replace all lines. Only drafts change.",
)


@proposals.post("/{proposal_id}/transition", response=ProposalOut)
def transition_proposal(request: HttpRequest, proposal_id: RecordId, payload: ProposalTransitionIn):
    """Draft → pending approval → sent → accepted or declined; or withdrawn."""
    proposal = get_object_or_404(Proposal, pk=proposal_id)
    with errors_named({"status": "to"}):
        return services.proposal_transition(proposal=proposal, to=payload.to, by=request.user)


# --- Invoices ------------------------------------------------------------------------------------

# Reports over the open invoices, mounted before the invoices: `/{invoice_id}` would take `aging` for an id.
receivables = Router(tags=["invoices"])
router.add_router("/invoices", receivables)


@receivables.get("/aging", response=list[AgingRow])
def receivables_aging(request: HttpRequest):
    """Open invoices per currency: not yet due, 1–30, 31–60, 61–90 and over 90 days past due."""
    return selectors.receivables_aging(today=timezone.localdate(clock.now()))


@receivables.get("/overdue", response=list[OverdueInvoiceOut])
@paginated
def list_overdue_invoices(request: HttpRequest):
    """Overdue invoices, the longest overdue first, with the reminder levels each has been sent."""
    return selectors.invoices_overdue().prefetch_related("reminders")


invoices = record_router(
    router,
    model=Invoice,
    module=__name__,
    prefetch=("lines",),
    update_description=(
        "Sent `lines` replace all lines. Only drafts change: void an issued invoice and re-issue it."
    ),
)


@invoices.post("/{invoice_id}/issue", response=InvoiceOut)
def issue_invoice(request: HttpRequest, invoice_id: RecordId, payload: InvoiceIssueIn | None = None):
    """Draft → approved: freezes the lines and gives the next gap-free number of the year."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    return documents.invoice_issue_with_document(invoice=invoice, by=request.user, **changes(payload))


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@invoices.get("/{invoice_id}/pdf", response={200: None}, openapi_extra=PDF_RESPONSE)
def invoice_pdf(request: HttpRequest, invoice_id: RecordId):
    """The invoice as PDF/A-3 with its Factur-X (EN 16931) XML: the stored document of an issued
    invoice; for a draft, a preview marked DRAFT."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    return _pdf_response(*documents.invoice_pdf(invoice=invoice, by=request.user))


@invoices.get("/{invoice_id}/credit-note/pdf", response={200: None}, openapi_extra=PDF_RESPONSE)
def credit_note_pdf(request: HttpRequest, invoice_id: RecordId):
    """The credit note that cancels a void invoice, as PDF/A-3 with its Factur-X XML (type 381)."""
    note = get_object_or_404(CreditNote, invoice_id=invoice_id)
    return _pdf_response(*documents.credit_note_pdf(note=note, by=request.user))


@invoices.post("/{invoice_id}/mark-sent", response=InvoiceOut)
def mark_invoice_sent(request: HttpRequest, invoice_id: RecordId, payload: InvoiceSentIn | None = None):
    """Records that the invoice went out by some other way (handed over, another mail program); it sends
    nothing. To send it by email with its PDF, `POST /invoices/{id}/send`."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    return services.invoice_mark_sent(invoice=invoice, by=request.user, **changes(payload))


@invoices.post("/{invoice_id}/pay", response=InvoiceOut)
def mark_invoice_paid(request: HttpRequest, invoice_id: RecordId, payload: InvoicePaidIn | None = None):
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    return services.invoice_mark_paid(invoice=invoice, by=request.user, **changes(payload))


@invoices.post("/{invoice_id}/void", response=InvoiceOut)
def void_invoice(request: HttpRequest, invoice_id: RecordId, payload: InvoiceVoidIn):
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    with errors_named({"void_reason": "reason"}):
        return services.invoice_void(invoice=invoice, by=request.user, reason=payload.reason)


@invoices.post("/{invoice_id}/reissue", response={201: InvoiceOut})
def reissue_invoice(request: HttpRequest, invoice_id: RecordId):
    """A new draft with the lines of a void invoice, linked to it, to correct and issue."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    return services.invoice_reissue(invoice=invoice, by=request.user)
