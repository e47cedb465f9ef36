"""Money documents: proposals and invoices, their priced lines and the gap-free invoice numbering."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Round
from simple_history.models import HistoricalRecords

from core.models.base import (
    MONEY,
    NON_NEGATIVE,
    QUANTITY,
    TimeStamped,
    currency_check,
    currency_field,
    non_negative_check,
)
from core.models.clients import ClientRecord
from core.states import InvoiceReminderStatus, InvoiceStatus, ProposalStatus


class MoneyDocument(ClientRecord):
    """Shared columns of proposals and invoices: currency and totals kept equal to their lines."""

    currency = currency_field()
    subtotal = models.DecimalField(**MONEY, default=Decimal("0.00"), editable=False)
    tax_total = models.DecimalField(**MONEY, default=Decimal("0.00"), editable=False)
    total = models.DecimalField(**MONEY, default=Decimal("0.00"), editable=False)
    notes = models.TextField(blank=True)

    class Meta(ClientRecord.Meta):
        abstract = True
        # Django names each document's copy after its model: `proposal_total_sum`, `invoice_total_sum`.
        constraints = [
            currency_check("%(class)s_currency_iso4217"),
            non_negative_check("%(class)s_totals_non_negative", "subtotal", "tax_total", "total"),
            models.CheckConstraint(
                condition=Q(total=F("subtotal") + F("tax_total")), name="%(class)s_total_sum"
            ),
        ]

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


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
        # Named after each line model: `proposalline_amount_is_product`, `invoiceline_amount_is_product`.
        constraints = [
            non_negative_check("%(class)s_non_negative", "quantity", "unit_price", "tax_rate"),
            models.CheckConstraint(condition=Q(tax_rate__lte=100), name="%(class)s_tax_rate_max_100"),
            models.CheckConstraint(
                condition=Q(amount=Round(F("quantity") * F("unit_price"), 2)),
                name="%(class)s_amount_is_product",
            ),
            models.CheckConstraint(
                condition=Q(tax_amount=Round(F("amount") * F("tax_rate") / 100, 2)),
                name="%(class)s_tax_is_rate",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class Proposal(MoneyDocument):
    Status = ProposalStatus

    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    valid_until = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    cover_letter = models.TextField(blank=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return self.title


class ProposalLine(MoneyLine):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines")
    history = HistoricalRecords()


class InvoiceSequence(models.Model):
    """The last invoice number used in a year. Incremented in the issuing transaction, so a rolled
    back issue gives its number back and the sequence stays gap-free."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Invoice(MoneyDocument):
    Status = InvoiceStatus

    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        help_text="The void invoice this one re-issues.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    number = models.CharField(max_length=32, null=True, blank=True, unique=True, editable=False)
    number_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    number_sequence = models.PositiveIntegerField(null=True, blank=True, editable=False)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    supply_date = models.DateField(
        null=True, blank=True, help_text="When the work was delivered; the issue date when left blank."
    )
    # The parties as they stood when the invoice was issued (names, addresses, VAT IDs, bank details):
    # the document is rendered from these, so later changes to the workspace or the client never alter
    # an issued invoice. Frozen by a trigger (migration business_details).
    seller = models.JSONField(default=dict, blank=True, editable=False)
    buyer = models.JSONField(default=dict, blank=True, editable=False)
    document = models.ForeignKey(
        "Artifact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The issued invoice as PDF/A-3 with its Factur-X XML; rendered once.",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    overdue_since = models.DateField(null=True, blank=True, help_text="The first day it was past due.")
    # A client's question or dispute, or their word that they paid, holds the reminders until the
    # operator resumes them (or the invoice is paid).
    reminders_paused = models.BooleanField(default=False)
    reminders_pause_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta(MoneyDocument.Meta):
        constraints = [
            *MoneyDocument.Meta.constraints,
            models.UniqueConstraint(
                fields=["number_year", "number_sequence"], name="invoice_number_unique_per_year"
            ),
            # Issued (non-draft) invoices carry a number and dates; drafts carry neither number part.
            models.CheckConstraint(
                condition=Q(
                    status="draft",
                    number__isnull=True,
                    number_year__isnull=True,
                    number_sequence__isnull=True,
                )
                | (
                    ~Q(status="draft")
                    & Q(
                        number__isnull=False,
                        number_year__isnull=False,
                        number_sequence__isnull=False,
                        issue_date__isnull=False,
                        due_date__isnull=False,
                    )
                ),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=Q(issue_date__isnull=True)
                | Q(due_date__isnull=True)
                | Q(due_date__gte=F("issue_date")),
                name="invoice_due_after_issue",
            ),
            models.CheckConstraint(
                condition=~Q(status="void") | Q(voided_at__isnull=False), name="invoice_void_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False), name="invoice_paid_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft invoice #{self.pk}"


class InvoiceLine(MoneyLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    history = HistoricalRecords()


class InvoiceReminder(models.Model):
    """One reminder level of one invoice: proposed by the daily sweep once, then sent, or cancelled by the
    operator or by a payment. The unique pair keeps an invoice from being reminded twice at one level."""

    Status = InvoiceReminderStatus

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="reminders")
    level = models.CharField(max_length=30)
    days_overdue = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    task_id = models.UUIDField(null=True, blank=True, help_text="The ledger task that drafted it.")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["invoice_id", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "level"], name="invoicereminder_once_per_level")
        ]

    def __str__(self) -> str:
        return f"{self.level} reminder of {self.invoice}"


class CreditNote(TimeStamped):
    """The document that cancels a void invoice in full (UNTDID 1001 type 381), referencing it.

    Numbered in its own gap-free series per year (PREFIX-YYYY-CNNNN); its parties and lines are the
    invoice's, so it needs no lines of its own."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="credit_note")
    number = models.CharField(max_length=32, unique=True)
    number_year = models.PositiveSmallIntegerField()
    number_sequence = models.PositiveIntegerField()
    issue_date = models.DateField()
    reason = models.TextField()
    document = models.ForeignKey(
        "Artifact", on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-issue_date", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["number_year", "number_sequence"], name="creditnote_number_unique_per_year"
            ),
        ]

    def __str__(self) -> str:
        return self.number
