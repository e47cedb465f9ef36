"""The shared columns of proposals and invoices and of their priced lines."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round

from core.models.base import MONEY, NON_NEGATIVE, QUANTITY, TimeStamped, currency_field, non_negative_check
from core.models.clients import Client
from core.models.projects import Project


class MoneyDocument(TimeStamped):
    """Shared columns of proposals and invoices: currency and totals kept equal to their lines."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    currency = currency_field()
    subtotal = models.DecimalField(**MONEY, default=Decimal("0.00"), editable=False)
    tax_total = models.DecimalField(**MONEY, default=Decimal("0.00"), editable=False)
    total = models.DecimalField(**MONEY, default=Decimal("0.00"), editable=False)
    notes = models.TextField(blank=True)

    class Meta:
        abstract = True


class MoneyLine(models.Model):
    """A priced line. `amount` and `tax_amount` are derived and the database checks the arithmetic."""

    position = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=500)
    service_key = models.CharField(max_length=50, blank=True)
    quantity = models.DecimalField(**QUANTITY, validators=NON_NEGATIVE)
    unit = models.CharField(max_length=20, blank=True)
    unit_price = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    tax_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0"), validators=NON_NEGATIVE, help_text="Percent."
    )
    amount = models.DecimalField(**MONEY, editable=False)
    tax_amount = models.DecimalField(**MONEY, default=Decimal("0.00"), editable=False)

    class Meta:
        abstract = True
        ordering = ["position", "pk"]

    @classmethod
    def line_constraints(cls, prefix: str) -> list[models.CheckConstraint]:
        return [
            non_negative_check(f"{prefix}_non_negative", "quantity", "unit_price", "tax_rate"),
            models.CheckConstraint(condition=Q(tax_rate__lte=100), name=f"{prefix}_tax_rate_max_100"),
            models.CheckConstraint(
                condition=Q(amount=Round(F("quantity") * F("unit_price"), 2)),
                name=f"{prefix}_amount_is_product",
            ),
            models.CheckConstraint(
                condition=Q(tax_amount=Round(F("amount") * F("tax_rate") / 100, 2)),
                name=f"{prefix}_tax_is_rate",
            ),
        ]
