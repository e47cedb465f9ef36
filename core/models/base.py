"""Shared columns, validators and constraint builders of the canonical records."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Trim

from core.currencies import CURRENCY_CODES

MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 12, "decimal_places": 3}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]
SERVICE_KEY_VALIDATOR = RegexValidator(
    r"^[a-z0-9][a-z0-9_]*$", "Use lower-case letters, digits and underscores."
)
_CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCY_CODES)]


def currency_field(**kwargs) -> models.CharField:
    return models.CharField(max_length=3, choices=_CURRENCY_CHOICES, default="EUR", **kwargs)


def currency_check(name: str, field: str = "currency") -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": sorted(CURRENCY_CODES)}), name=name)


def dates_in_order_check(name: str, start: str, end: str) -> models.CheckConstraint:
    """`end` is not before `start` where both are set."""
    return models.CheckConstraint(
        condition=Q(**{f"{start}__isnull": True})
        | Q(**{f"{end}__isnull": True})
        | Q(**{f"{end}__gte": F(start)}),
        name=name,
    )


def email_normalised_check(name: str, field: str = "email") -> models.CheckConstraint:
    # Blank is allowed where the field is optional; anything else must already be trimmed lower case.
    return models.CheckConstraint(condition=Q(**{field: Lower(Trim(F(field)))}), name=name)


def non_negative_check(name: str, *fields: str) -> models.CheckConstraint:
    condition = Q()
    for field in fields:
        condition &= Q(**{f"{field}__gte": 0}) | Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=condition, name=name)


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        # Newest first, the id breaking ties; a record listed otherwise says so in its own Meta (a Meta
        # that only adds constraints inherits this one: `class Meta(TimeStamped.Meta)`).
        ordering = ["-created_at", "-pk"]
