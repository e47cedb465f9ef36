"""The workspace and its catalogue: configuring the workspace, pricing rules and action templates."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import ActionTemplate, PricingRule, Workspace
from core.services._common import User, _apply, _save, _upsert
from core.services.deletion import _delete

# The details an invoice carries about the seller (validated by the normalisers in _common).
BUSINESS_FIELDS = (
    "legal_name",
    "street",
    "postcode",
    "city",
    "country",
    "vat_id",
    "iban",
    "bic",
    "default_tax_rate",
    "late_payment_text",
    "logo",
)
WORKSPACE_FIELDS = (
    "name",
    "operator_name",
    "operator_email",
    "invoice_prefix",
    "default_currency",
    "payment_terms_days",
    "deposit_percent",
    *BUSINESS_FIELDS,
)


@transaction.atomic
def workspace_configure(*, by: User, **data: Any) -> Workspace:
    workspace = Workspace.objects.select_for_update().filter(pk=1).first() or Workspace(pk=1)
    changed = _apply(workspace, data, allowed=WORKSPACE_FIELDS)
    return _save(workspace, by=by, update_fields=changed if workspace._state.adding is False else None)


PRICING_FIELDS = ("name", "description", "unit", "unit_price", "currency", "min_units", "active")


@transaction.atomic
def pricing_rule_upsert(*, service_key: str, by: User, **data: Any) -> tuple[PricingRule, bool]:
    """Create or update the rule of a service; returns (rule, changed). Unchanged data writes nothing."""
    return _upsert(PricingRule, lookup={"service_key": service_key}, data=data, allowed=PRICING_FIELDS, by=by)


@transaction.atomic
def pricing_rule_delete(*, rule: PricingRule, by: User) -> None:
    _delete(rule, by=by)


TEMPLATE_FIELDS = ("name", "kind", "subject", "body", "active")


@transaction.atomic
def action_template_upsert(*, key: str, by: User, **data: Any) -> tuple[ActionTemplate, bool]:
    """Create or update the template with this key; returns (template, changed)."""
    return _upsert(ActionTemplate, lookup={"key": key}, data=data, allowed=TEMPLATE_FIELDS, by=by)


@transaction.atomic
def action_template_delete(*, template: ActionTemplate, by: User) -> None:
    _delete(template, by=by)
