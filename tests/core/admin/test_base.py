"""What every admin shares (core.admin.base): a service's refusal and bad input are form errors, the
forms offer what the services accept, amounts show their currency, and deleting is refused as a whole."""

import pytest
from django.conf import settings
from django.contrib import admin

from core import services
from core.models import (
    ActionTemplate,
    Client,
    Contact,
    Contract,
    Conversation,
    Deliverable,
    Invoice,
    InvoiceLine,
    PricingRule,
    Project,
    Proposal,
    ProposalLine,
    Workspace,
)
from tests.core.admin.pages import form_data, url
from tests.factories import ClientFactory, InvoiceFactory, ProjectFactory


@pytest.mark.django_db
def test_a_refusal_by_a_service_is_shown_on_the_form_and_nothing_is_saved(operator_client, operator):
    client = ClientFactory(by=operator)
    other_clients_project = ProjectFactory(by=operator)

    response = operator_client.post(
        url(Proposal, "add"),
        {
            "client": client.pk,
            "title": "Website",
            "project": other_clients_project.pk,
            "currency": "",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-description": "Design",
            "lines-0-quantity": "2",
            "lines-0-unit_price": "100",
            "lines-0-position": "0",
            "lines-0-tax_rate": "0",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["project"] == ["The project belongs to another client."]
    assert not Proposal.objects.exists()
    assert not ProposalLine.objects.exists()


@pytest.mark.django_db
def test_bad_input_gets_form_errors_not_server_errors(operator_client, operator):
    client = ClientFactory(by=operator)

    dates = operator_client.post(
        url(Project, "add"),
        {
            "client": client.pk,
            "name": "Site",
            "status": "active",
            "currency": "",
            "start_date": "2026-05-01",
            "due_date": "2026-04-01",
            "deliverables-TOTAL_FORMS": "0",
            "deliverables-INITIAL_FORMS": "0",
        },
    )
    assert dates.status_code == 200
    assert dates.context["adminform"].form.errors["due_date"] == [
        "This date cannot be before the start date."
    ]

    invoice = InvoiceFactory(client=client, by=operator)
    page = form_data(operator_client.get(url(Invoice, "change", invoice.pk)))
    page["lines-0-tax_rate"] = "150"
    tax = operator_client.post(url(Invoice, "change", invoice.pk), page)
    assert tax.status_code == 200
    assert tax.context["inline_admin_formsets"][0].formset.errors[0]["tax_rate"] == [
        "Ensure this value is less than or equal to 100."
    ]

    assert operator_client.get("/admin/core/client/abc/history/").status_code == 404
    assert operator_client.get(f"/admin/core/client/{client.pk}/history/abc/").status_code == 404
    assert not Project.objects.exists()
    assert invoice.lines.filter(tax_rate=150).exists() is False


@pytest.mark.django_db
def test_admin_forms_offer_exactly_what_the_services_accept():
    accepted = {
        # The logo is uploaded as an image and stored as an artifact the workspace points at.
        Workspace: tuple("logo_image" if field == "logo" else field for field in services.WORKSPACE_FIELDS),
        Client: services.CLIENT_FIELDS,
        Contact: services.CONTACT_FIELDS,
        Project: services.PROJECT_FIELDS,
        Deliverable: services.DELIVERABLE_FIELDS,
        PricingRule: services.PRICING_FIELDS,
        Proposal: services.PROPOSAL_FIELDS,
        Invoice: services.INVOICE_DRAFT_FIELDS,
        Contract: services.CONTRACT_FIELDS,
        Conversation: services.CONVERSATION_FIELDS,
        ActionTemplate: services.TEMPLATE_FIELDS,
    }
    for model, fields in accepted.items():
        assert sorted(admin.site._registry[model].edit_fields) == sorted(fields), model


@pytest.mark.django_db
def test_reverting_a_deleted_line_is_refused_on_the_form(operator_client, operator):
    invoice = InvoiceFactory(by=operator)
    line = invoice.lines.first()
    line_pk, version = line.pk, line.history.first()
    services.invoice_line_delete(line=line, by=operator)
    revert_url = url(InvoiceLine, "simple_history", line_pk, version.history_id)

    response = operator_client.post(revert_url, form_data(operator_client.get(revert_url)))

    assert response.status_code == 200
    assert "has been deleted" in response.context["errors"][0][0]
    assert invoice.lines.count() == 1


@pytest.mark.django_db
def test_money_is_listed_with_its_currency_and_right_aligned(operator_client, operator):
    InvoiceFactory(by=operator, client=ClientFactory(by=operator, default_currency="SEK"))

    page = operator_client.get(url(Invoice, "changelist")).content.decode()

    assert '<td class="field-money_total">2,512.50\u00a0SEK</td>' in page
    # Right-aligned by the back office's stylesheet (no inline styles under the Content-Security-Policy).
    assert '<link rel="stylesheet" href="/static/aios/admin.css">' in page
    assert 'td[class*="field-money_"]' in (settings.BASE_DIR / "static" / "aios" / "admin.css").read_text()


@pytest.mark.django_db
def test_bulk_delete_refuses_the_whole_selection_when_one_record_has_history(operator_client, operator):
    lead = ClientFactory(by=operator, status="lead")
    customer = InvoiceFactory(by=operator).client

    response = operator_client.post(
        url(Client, "changelist"),
        {"action": "delete_selected", "_selected_action": [lead.pk, customer.pk], "post": "yes"},
    )

    assert response.status_code == 200
    assert any("Set its status to past instead" in str(item) for item in response.context["protected"])
    assert set(Client.objects.values_list("pk", flat=True)) == {lead.pk, customer.pk}
