"""Business details: validated when entered (VAT IDs, IBAN, BIC, country), and an invoice is not issued
while any it must carry is missing — with a message that names every one."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as HttpClient

from core import services
from core.models import Invoice, InvoiceSequence, Workspace
from tests.core.admin.pages import act, messages_of
from tests.factories import ClientFactory, InvoiceFactory


@pytest.fixture
def bare_workspace(operator):
    """A workspace with a name and prefix but none of the business details."""
    return services.workspace_configure(
        by=operator,
        name="Bare Studio",
        operator_name="Op",
        operator_email="op@example.com",
        invoice_prefix="BS",
        default_currency="EUR",
    )


@pytest.fixture
def api(operator):
    _, raw = services.api_token_create(user=operator, name="tests")
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


@pytest.mark.django_db
def test_identifiers_are_validated_and_stored_compact(operator, workspace):
    services.workspace_configure(
        by=operator,
        vat_id="se 5566 7788 0801",
        iban="de89 3704 0044 0532 0130 00",
        bic="cobadeffxxx",
        country="de",
    )
    stored = Workspace.objects.get()
    assert (stored.vat_id, stored.iban, stored.bic, stored.country) == (
        "SE556677880801",
        "DE89370400440532013000",
        "COBADEFFXXX",
        "DE",
    )

    with pytest.raises(ValidationError) as refused:
        services.workspace_configure(
            by=operator, vat_id="SE556677880802", iban="DE00370400440532013000", bic="XX"
        )
    assert set(refused.value.message_dict) == {"vat_id", "iban", "bic"}
    assert "not a valid VAT ID" in refused.value.message_dict["vat_id"][0]
    assert "not a valid IBAN" in refused.value.message_dict["iban"][0]
    assert Workspace.objects.get().vat_id == "SE556677880801"


@pytest.mark.django_db
def test_a_vat_id_outside_the_eu_is_checked_by_its_country(operator):
    client = services.client_create(by=operator, name="Fjellvind", country="NO", vat_id="NO 923 609 016 MVA")
    assert client.vat_id == "NO923609016MVA"
    with pytest.raises(ValidationError):
        services.client_update(client=client, by=operator, vat_id="NO 923 609 017 MVA")


@pytest.mark.django_db
def test_a_client_vat_id_is_validated_through_the_api(api, operator):
    client = ClientFactory(by=operator)

    refused = api.patch(
        f"/api/v1/clients/{client.pk}", {"vat_id": "DK13585629"}, content_type="application/json"
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "payload", "vat_id"]
    client.refresh_from_db()
    assert client.vat_id == ""

    accepted = api.patch(
        f"/api/v1/clients/{client.pk}",
        {
            "vat_id": "dk13585628",
            "billing_street": "Strandvejen 12",
            "billing_postcode": "2100",
            "billing_city": "København",
            "country": "dk",
        },
        content_type="application/json",
    )
    assert accepted.status_code == 200
    assert {k: accepted.json()[k] for k in ("vat_id", "country", "billing_city")} == {
        "vat_id": "DK13585628",
        "country": "DK",
        "billing_city": "København",
    }


@pytest.mark.django_db
def test_missing_details_block_issuing_and_are_all_named(operator, bare_workspace):
    client = ClientFactory(by=operator, name="Acme", billing_street="", billing_postcode="", billing_city="")
    draft = InvoiceFactory(by=operator, client=client)

    with pytest.raises(ValidationError) as refused:
        services.invoice_issue(invoice=draft, by=operator)

    message = refused.value.message_dict["details"][0]
    for name in (
        "workspace: legal name",
        "workspace: street address",
        "workspace: postcode",
        "workspace: city",
        "workspace: country",
        "workspace: VAT ID",
        "workspace: IBAN",
        "client Acme: billing street address",
        "client Acme: billing postcode",
        "client Acme: billing city",
    ):
        assert name in message, name
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("draft", None)
    assert not InvoiceSequence.objects.exists()


@pytest.mark.django_db
def test_a_zero_rated_invoice_to_an_eu_business_needs_its_vat_id(operator, workspace):
    client = ClientFactory(by=operator, name="Havsbris", country="DK", vat_id="")
    draft = InvoiceFactory(by=operator, client=client)  # one of its lines is at 0 %

    with pytest.raises(ValidationError) as refused:
        services.invoice_issue(invoice=draft, by=operator)

    assert refused.value.message_dict["details"] == [
        "Fill in these business details before issuing: "
        "client Havsbris: VAT ID (needed for the reverse charge on 0 % lines)."
    ]
    services.client_update(client=client, by=operator, vat_id="DK13585628")
    assert services.invoice_issue(invoice=draft, by=operator).status == "approved"


@pytest.mark.django_db
def test_the_api_answers_422_naming_the_missing_details(api, operator, bare_workspace):
    draft = InvoiceFactory(by=operator)

    response = api.post(f"/api/v1/invoices/{draft.pk}/issue", {}, content_type="application/json")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "payload", "details"]
    assert "workspace: VAT ID" in error["msg"] and "workspace: IBAN" in error["msg"]
    assert Invoice.objects.get(pk=draft.pk).status == "draft"


@pytest.mark.django_db
def test_the_admin_issue_action_names_the_missing_details(operator_client, operator, bare_workspace):
    draft = InvoiceFactory(by=operator)

    response = act(operator_client, Invoice, "issue", [draft])

    [message] = messages_of(response)
    assert message.startswith(
        f"{draft}: Fill in these business details before issuing: workspace: legal name"
    )
    assert Invoice.objects.get(pk=draft.pk).status == "draft"


@pytest.mark.django_db
def test_a_draft_preview_is_refused_the_same_way(api, operator, bare_workspace):
    draft = InvoiceFactory(by=operator)

    response = api.get(f"/api/v1/invoices/{draft.pk}/pdf")

    assert response.status_code == 422
    assert "workspace: IBAN" in response.json()["detail"][0]["msg"]
