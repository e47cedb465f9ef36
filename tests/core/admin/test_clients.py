"""Clients, their contacts and projects in the back office: written, reverted and deleted through the
services."""

import pytest
from django.core.exceptions import ValidationError

from core import services
from core.models import Client, Contact, Project
from tests.core.admin.pages import form_data, url
from tests.factories import ClientFactory, ContactFactory, ProjectFactory, UserFactory


@pytest.mark.django_db
def test_adding_a_client_stores_a_normalised_email_and_names_the_operator_in_history(
    operator_client, operator
):
    response = operator_client.post(
        url(Client, "add"),
        {
            "name": "Berg Bakery AB",
            "kind": "organisation",
            "status": "lead",
            "email": "  Billing@BergBakery.SE ",
            "website": "bergbakery.se",
            "default_currency": "SEK",
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "0",
            "contacts-0-name": "Jonas Berg",
            "contacts-0-email": "Jonas@BergBakery.SE",
            "contacts-0-is_primary": "on",
        },
    )

    assert response.status_code == 302
    client = Client.objects.get()
    assert client.email == "billing@bergbakery.se"
    assert client.website == "https://bergbakery.se"
    assert client.default_currency == "SEK"
    assert [(row.history_type, row.history_user) for row in client.history.all()] == [("+", operator)]
    contact = Contact.objects.get()
    assert (contact.client, contact.email, contact.is_primary) == (client, "jonas@bergbakery.se", True)
    assert contact.history.get().history_user == operator


@pytest.mark.django_db
def test_editing_a_client_writes_only_the_changed_fields(operator_client, operator):
    client = ClientFactory(by=operator, name="Old name")
    page = operator_client.get(url(Client, "change", client.pk))
    data = form_data(page)

    unchanged = operator_client.post(url(Client, "change", client.pk), data)
    assert unchanged.status_code == 302
    assert client.history.count() == 1

    data["name"] = "New name"
    assert operator_client.post(url(Client, "change", client.pk), data).status_code == 302
    client.refresh_from_db()
    assert client.name == "New name"
    latest = client.history.first()
    assert (latest.history_type, latest.history_user, latest.name) == ("~", operator, "New name")


@pytest.mark.django_db
def test_reverting_a_client_to_an_older_version_is_recorded_as_the_operators_change(
    operator_client, operator
):
    someone = UserFactory()
    client = services.client_create(by=someone, name="First name")
    services.client_update(client=client, by=someone, name="Second name")
    services.client_update(client=client, by=someone, name="Third name")
    oldest = client.history.order_by("history_id").first()
    revert_url = url(Client, "simple_history", client.pk, oldest.history_id)

    page = operator_client.get(revert_url)
    assert page.status_code == 200
    assert page.context["revert_disabled"] is False
    response = operator_client.post(revert_url, form_data(page))

    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "First name"
    latest = client.history.first()
    assert (latest.name, latest.history_type, latest.history_user) == ("First name", "~", operator)
    assert client.history.count() == 4


@pytest.mark.django_db
def test_a_client_without_business_history_can_be_deleted_with_its_contacts(operator_client, operator):
    lead = ClientFactory(by=operator, status="lead")
    contact = ContactFactory(client=lead, by=operator)

    confirm = operator_client.get(url(Client, "delete", lead.pk))
    assert confirm.status_code == 200 and not confirm.context["protected"]
    assert operator_client.post(url(Client, "delete", lead.pk), {"post": "yes"}).status_code == 302

    assert not Client.objects.filter(pk=lead.pk).exists()
    assert not Contact.objects.filter(pk=contact.pk).exists()
    gone = Contact.history.filter(id=contact.pk, history_type="-").get()
    assert gone.history_user == operator


@pytest.mark.django_db
def test_a_new_project_takes_its_clients_currency_unless_one_is_chosen(operator_client, operator):
    client = ClientFactory(by=operator, default_currency="SEK")
    base = {
        "client": client.pk,
        "status": "active",
        "currency": "",
        "deliverables-TOTAL_FORMS": "0",
        "deliverables-INITIAL_FORMS": "0",
    }

    assert operator_client.post(url(Project, "add"), {**base, "name": "Default"}).status_code == 302
    assert (
        operator_client.post(url(Project, "add"), {**base, "name": "Chosen", "currency": "USD"}).status_code
        == 302
    )

    assert dict(Project.objects.values_list("name", "currency")) == {"Default": "SEK", "Chosen": "USD"}


@pytest.mark.django_db
def test_a_project_with_invoices_is_kept(operator):
    project = ProjectFactory(by=operator)
    services.deliverable_create(project=project, by=operator, title="Logo")
    services.invoice_create(client=project.client, project=project, by=operator)
    with pytest.raises(ValidationError, match="cancelled or completed"):
        services.project_delete(project=project, by=operator)
    assert project.deliverables.count() == 1


@pytest.mark.django_db
def test_the_client_list_counts_each_clients_projects_and_sorts_by_that_count(operator_client, operator):
    busy, quiet = ClientFactory(name="Busy"), ClientFactory(name="Quiet")
    for _ in range(3):
        ProjectFactory(client=busy, by=operator)
    ProjectFactory(client=quiet, by=operator)
    columns = operator_client.get(url(Client, "changelist")).context["cl"].list_display
    column = [getattr(column, "__name__", column) for column in columns].index("project_count")

    page = operator_client.get(url(Client, "changelist"), {"o": f"-{column}"})

    assert '<th scope="col" class="sortable column-project_count' in page.content.decode()
    assert [(row.name, row.project_count) for row in page.context["cl"].result_list] == [
        ("Busy", 3),
        ("Quiet", 1),
    ]
