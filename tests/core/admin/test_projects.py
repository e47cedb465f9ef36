"""Projects in the back office."""

import pytest
from django.core.exceptions import ValidationError

from core import services
from core.models import Project
from tests.core.admin.pages import url
from tests.factories import ClientFactory, ProjectFactory


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
