"""The workspace: the one business this installation runs."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models.base import TimeStamped, currency_check, currency_field, email_normalised_check


class Workspace(TimeStamped):
    """The one business this installation runs: its name, operator and invoicing defaults."""

    name = models.CharField(max_length=200)
    operator_name = models.CharField(max_length=200)
    operator_email = models.EmailField()
    invoice_prefix = models.CharField(
        max_length=10,
        validators=[RegexValidator(r"^[A-Z0-9]{1,10}$", "Use 1-10 upper-case letters or digits.")],
        help_text="Invoice numbers look like PREFIX-2026-0001.",
    )
    default_currency = currency_field()
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            # A singleton: the row with pk=1 is the workspace.
            models.CheckConstraint(condition=Q(pk=1), name="workspace_singleton"),
            currency_check("workspace_currency_iso4217", "default_currency"),
            email_normalised_check("workspace_email_normalised", "operator_email"),
        ]

    def __str__(self) -> str:
        return self.name
