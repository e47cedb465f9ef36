"""The workspace and its catalogue: the one business this installation runs, the price of each
service it sells, and the texts of its proposals, follow-ups, reminders and replies."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models.base import (
    MONEY,
    NON_NEGATIVE,
    QUANTITY,
    SERVICE_KEY_VALIDATOR,
    TimeStamped,
    currency_check,
    currency_field,
    email_normalised_check,
    non_negative_check,
)
from core.states import ActionTemplateKind


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
    deposit_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text="Share of an accepted proposal invoiced at once (30: a 30 % deposit); 0 invoices it whole.",
    )
    # Business details printed on every invoice (EU VAT invoice requirements); issuing an invoice is
    # refused while any of the required ones is blank (core.invoicing.details).
    legal_name = models.CharField(
        max_length=200, blank=True, help_text="As registered; the invoice's seller."
    )
    street = models.CharField(max_length=200, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2 code, e.g. SE.")
    vat_id = models.CharField(
        max_length=20, blank=True, verbose_name="VAT ID", help_text="e.g. SE556677889901"
    )
    iban = models.CharField(max_length=34, blank=True, verbose_name="IBAN")
    bic = models.CharField(max_length=11, blank=True, verbose_name="BIC")
    default_tax_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0"), validators=NON_NEGATIVE, help_text="Percent."
    )
    late_payment_text = models.TextField(
        blank=True, help_text="Printed on invoices and used by the final reminder (interest, fees)."
    )
    logo = models.ForeignKey(
        "Artifact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="A PNG, JPEG or SVG printed at the top of invoices.",
    )
    history = HistoricalRecords()

    class Meta:
        constraints = [
            non_negative_check("workspace_tax_rate_non_negative", "default_tax_rate"),
            models.CheckConstraint(condition=Q(default_tax_rate__lte=100), name="workspace_tax_rate_max_100"),
            # A singleton: the row with pk=1 is the workspace.
            models.CheckConstraint(condition=Q(pk=1), name="workspace_singleton"),
            currency_check("workspace_currency_iso4217", "default_currency"),
            email_normalised_check("workspace_email_normalised", "operator_email"),
            models.CheckConstraint(
                condition=Q(deposit_percent__gte=0, deposit_percent__lte=100),
                name="workspace_deposit_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name


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


class ActionTemplate(TimeStamped):
    """Named, parameterised text for proposals, follow-ups, reminders and replies (Django template syntax)."""

    Kind = ActionTemplateKind

    key = models.CharField(max_length=50, unique=True, validators=[SERVICE_KEY_VALIDATOR])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "key"]

    def __str__(self) -> str:
        return self.name
