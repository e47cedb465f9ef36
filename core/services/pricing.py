"""Pricing rules."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import PricingRule
from core.services._common import User, _upsert
from core.services.deletion import _delete

PRICING_FIELDS = ("name", "description", "unit", "unit_price", "currency", "min_units", "active")


@transaction.atomic
def pricing_rule_upsert(*, service_key: str, by: User, **data: Any) -> tuple[PricingRule, bool]:
    """Create or update the rule of a service; returns (rule, changed). Unchanged data writes nothing."""
    return _upsert(PricingRule, lookup={"service_key": service_key}, data=data, allowed=PRICING_FIELDS, by=by)


@transaction.atomic
def pricing_rule_delete(*, rule: PricingRule, by: User) -> None:
    _delete(rule, by=by)
