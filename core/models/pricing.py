"""Pricing rules: the price of each service the workspace sells."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from simple_history.models import HistoricalRecords

from core.models.base import (
    MONEY,
    NON_NEGATIVE,
    QUANTITY,
    SERVICE_KEY_VALIDATOR,
    TimeStamped,
    currency_check,
    currency_field,
    non_negative_check,
)


class PricingRule(TimeStamped):
    service_key = models.CharField(max_length=50, unique=True, validators=[SERVICE_KEY_VALIDATOR])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=20, help_text="What one unit is: package, page, piece, month, hour…")
    unit_price = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    currency = currency_field()
    min_units = models.DecimalField(**QUANTITY, default=Decimal("1"), validators=NON_NEGATIVE)
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["service_key"]
        constraints = [
            non_negative_check("pricingrule_amounts_non_negative", "unit_price", "min_units"),
            currency_check("pricingrule_currency_iso4217"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.service_key})"
