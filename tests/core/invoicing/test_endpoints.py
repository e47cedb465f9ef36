"""Downloading the documents: GET /api/v1/invoices/{id}/pdf (token or staff session) and the back office's
links on the invoice and credit-note pages."""

import pytest
from django.test import Client as HttpClient

from core import services
from core.models import Artifact, CreditNote, Invoice
from tests.core.admin.pages import url
from tests.core.invoicing.conftest import issued
from tests.factories import ClientFactory, InvoiceFactory, UserFactory

LINES = [{"description": "Design", "quantity": "2", "unit": "page", "unit_price": "500.00", "tax_rate": "25"}]


@pytest.fixture
def api(operator):
    _, raw = services.api_token_create(user=operator, name="tests")
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


@pytest.mark.django_db
def test_the_api_serves_the_stored_pdf_of_an_issued_invoice(api, operator, workspace, frozen_clock):
    invoice = issued(operator, ClientFactory(by=operator), LINES)
    stored = Invoice.objects.get(pk=invoice.pk).document

    response = api.get(f"/api/v1/invoices/{invoice.pk}/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}.pdf"'
    with stored.file.open("rb") as handle:
        assert response.content == handle.read()
    assert Artifact.objects.filter(mime_type="application/pdf").count() == 1


@pytest.mark.django_db
def test_issuing_through_the_api_stores_the_document(api, operator, workspace, frozen_clock):
    draft = InvoiceFactory(by=operator, lines=LINES)

    response = api.post(f"/api/v1/invoices/{draft.pk}/issue", {}, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["supply_date"] == response.json()["issue_date"]
    stored = Invoice.objects.get(pk=draft.pk)
    assert stored.document is not None and stored.document.filename == f"invoice-{stored.number}.pdf"


@pytest.mark.django_db
def test_the_pdf_needs_staff_credentials(operator, workspace, frozen_clock):
    invoice = issued(operator, ClientFactory(by=operator), LINES)
    outsider = HttpClient()
    outsider.force_login(UserFactory(is_staff=False))

    assert HttpClient().get(f"/api/v1/invoices/{invoice.pk}/pdf").status_code == 401
    assert outsider.get(f"/api/v1/invoices/{invoice.pk}/pdf").status_code in (401, 403)
    assert (
        HttpClient(headers={"Authorization": "Bearer aios_wrong"})
        .get(f"/api/v1/invoices/{invoice.pk}/pdf")
        .status_code
        == 401
    )


@pytest.mark.django_db
def test_unknown_invoices_and_credit_notes_are_404(api, operator, workspace, frozen_clock):
    invoice = issued(operator, ClientFactory(by=operator), LINES)

    assert api.get("/api/v1/invoices/999999/pdf").status_code == 404
    assert api.get(f"/api/v1/invoices/{invoice.pk}/credit-note/pdf").status_code == 404

    services.invoice_void(invoice=invoice, by=operator, reason="Issued twice.")
    response = api.get(f"/api/v1/invoices/{invoice.pk}/credit-note/pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    note = CreditNote.objects.get(invoice=invoice)
    assert response["Content-Disposition"] == f'attachment; filename="credit-note-{note.number}.pdf"'


@pytest.mark.django_db
def test_the_admin_invoice_page_links_the_pdf(operator_client, operator, workspace, frozen_clock):
    invoice = issued(operator, ClientFactory(by=operator), LINES)
    pdf_url = f"/admin/core/invoice/{invoice.pk}/pdf/"

    page = operator_client.get(url(Invoice, "change", invoice.pk))
    assert page.status_code == 200
    assert pdf_url.encode() in page.content

    response = operator_client.get(pdf_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert HttpClient().get(pdf_url).status_code == 302  # to the sign-in page
    assert operator_client.get("/admin/core/invoice/nope/pdf/").status_code == 404

    services.invoice_void(invoice=invoice, by=operator, reason="Issued twice.")
    note = CreditNote.objects.get(invoice=invoice)
    assert operator_client.get(url(CreditNote, "change", note.pk)).status_code == 200
    credit = operator_client.get(f"/admin/core/creditnote/{note.pk}/pdf/")
    assert credit.status_code == 200 and credit.content.startswith(b"%PDF-")


@pytest.mark.django_db
def test_the_workspace_admin_takes_a_logo_upload(
    operator_client, operator, workspace, frozen_clock, tmp_path
):
    import io

    from PIL import Image

    from tests.core.admin.pages import form_data

    page = operator_client.get(url(type(workspace), "change", workspace.pk))
    data = {k: v for k, v in form_data(page).items() if v is not None}
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (20, 60, 120)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "logo.png"
    data["logo_image"] = buffer

    response = operator_client.post(url(type(workspace), "change", workspace.pk), data)

    assert response.status_code == 302, response.content[:2000]
    workspace.refresh_from_db()
    assert workspace.logo is not None and workspace.logo.mime_type == "image/png"
    invoice = issued(operator, ClientFactory(by=operator), LINES)
    assert invoice.seller["logo_artifact"] == workspace.logo_id
