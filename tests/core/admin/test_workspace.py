"""The workspace and its catalogue in the back office: the workspace, pricing rules."""

from decimal import Decimal

import pytest

from core.models import PricingRule, Workspace
from tests.core.admin.pages import form_data, url


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
            "deposit_percent": "30",
        },
    )

    assert response.status_code == 302
    workspace = Workspace.objects.get()
    assert (workspace.pk, workspace.operator_email) == (1, "ann@studio.se")
    assert workspace.deposit_percent == Decimal("30")
    assert workspace.history.get().history_user == operator
    assert operator_client.get(url(Workspace, "add")).status_code == 403


@pytest.mark.django_db
def test_a_pricing_rule_is_added_and_changed_through_the_upsert(operator_client, operator):
    added = operator_client.post(
        url(PricingRule, "add"),
        {
            "service_key": "web_page",
            "name": "Web page",
            "unit": "page",
            "unit_price": "650.00",
            "currency": "EUR",
            "min_units": "1",
            "active": "on",
        },
    )
    assert added.status_code == 302
    rule = PricingRule.objects.get()

    data = form_data(operator_client.get(url(PricingRule, "change", rule.pk)))
    assert "service_key" not in data
    data["unit_price"] = "700.00"
    assert operator_client.post(url(PricingRule, "change", rule.pk), data).status_code == 302

    rule.refresh_from_db()
    assert (rule.service_key, rule.unit_price) == ("web_page", Decimal("700.00"))
    assert [(row.unit_price, row.history_user) for row in rule.history.all()] == [
        (Decimal("700.00"), operator),
        (Decimal("650.00"), operator),
    ]
