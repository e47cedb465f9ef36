"""The workspace in the back office."""

import pytest

from core.models import Workspace
from tests.core.admin.pages import url


@pytest.mark.django_db
def test_the_workspace_is_configured_once_then_changed(operator_client, operator):
    response = operator_client.post(
        url(Workspace, "add"),
        {
            "name": "Studio",
            "operator_name": "Ann",
            "operator_email": "Ann@Studio.SE",
            "invoice_prefix": "ST",
            "default_currency": "EUR",
            "payment_terms_days": "14",
        },
    )

    assert response.status_code == 302
    workspace = Workspace.objects.get()
    assert (workspace.pk, workspace.operator_email) == (1, "ann@studio.se")
    assert workspace.history.get().history_user == operator
    assert operator_client.get(url(Workspace, "add")).status_code == 403
