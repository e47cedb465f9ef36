"""The invoice an `invoice.send` approval would send, shown before it leaves: its first page as an image
and the key fields of the Factur-X XML read back from the PDF (core.invoicing.preview). An issued invoice
shows its stored document — the very bytes that will be attached; a draft shows the preview issuing would
make (marked DRAFT: the number is given when the operator approves)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET

from core.http import staff_required
from core.invoicing import documents, preview
from core.models import Invoice
from ledger.models import ApprovalRequest

INVOICE_KIND = "invoice.send"


def _invoice_pdf(invoice_id: Any, by: AbstractBaseUser) -> tuple[Invoice, bytes, str]:
    invoice = Invoice.objects.filter(pk=invoice_id).first() if str(invoice_id).isdigit() else None
    if invoice is None:
        raise Http404("The invoice of this approval no longer exists.")
    pdf, filename = documents.invoice_pdf(invoice=invoice, by=by)
    return invoice, pdf, filename


def invoice_preview(*, approval: ApprovalRequest, payload: dict[str, Any], by: AbstractBaseUser) -> dict:
    """What the approval page shows of the invoice: the page image's URL, the PDF's, the XML's fields."""
    try:
        invoice, pdf, filename = _invoice_pdf(payload.get("invoice_id"), by)
    except (Http404, ValidationError) as exc:
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return {"error": message}
    return {
        "number": invoice.number or payload.get("number_expected") or "",
        "draft": invoice.status == Invoice.Status.DRAFT,
        "filename": filename,
        "page_url": reverse("approvals:invoice_page", args=[approval.pk]),
        "pdf_url": f"/api/v1/invoices/{invoice.pk}/pdf",
        "xml": preview.pdf_xml_fields(pdf=pdf),
    }


@require_GET
@staff_required("The approval pages are for staff users.")
def approval_invoice_page(request: HttpRequest, approval_id: int) -> HttpResponse:
    """The first page of the approval's invoice, as a PNG."""
    approval = get_object_or_404(ApprovalRequest.objects.select_related("action"), pk=approval_id)
    if approval.action.kind != INVOICE_KIND:
        raise Http404("This approval sends no invoice.")
    try:
        _, pdf, _ = _invoice_pdf(approval.action.payload.get("invoice_id"), request.user)
    except ValidationError as exc:
        raise Http404(" ".join(exc.messages)) from None
    response = HttpResponse(preview.pdf_first_page_png(pdf=pdf), content_type="image/png")
    response["Cache-Control"] = "private, no-store"  # a draft changes; the operator's eyes only
    return response
