"""Pricing rules."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import PricingRule
from core.services._common import User, _apply, _save
from core.services.deletion import _delete

PRICING_FIELDS = ("name", "description", "unit", "unit_price", "currency", "min_units", "active")


@transaction.atomic
def pricing_rule_upsert(*, service_key: str, by: User, **data: Any) -> tuple[PricingRule, bool]:
    """Create or update the rule of a service; returns (rule, changed). Unchanged data writes nothing."""
    rule = PricingRule.objects.select_for_update().filter(service_key=service_key).first()
    created = rule is None
    rule = rule or PricingRule(service_key=service_key)
    before = {field: getattr(rule, field) for field in data if field in PRICING_FIELDS}
    _apply(rule, data, allowed=PRICING_FIELDS)
    after = {field: getattr(rule, field) for field in before}
    if not created and before == after:
        return rule, False
    _save(rule, by=by, update_fields=None if created else list(data))
    return rule, True


@transaction.atomic
def pricing_rule_delete(*, rule: PricingRule, by: User) -> None:
    _delete(rule, by=by)
