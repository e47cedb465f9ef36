"""Invoices, their lines and their gap-free numbering."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.models.base import currency_check, non_negative_check
from core.models.clients import Client
from core.models.money import MoneyDocument, MoneyLine
from core.models.projects import Project
from core.models.proposals import Proposal


class InvoiceSequence(models.Model):
    """The last invoice number used in a year. Incremented in the issuing transaction, so a rolled
    back issue gives its number back and the sequence stays gap-free."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Invoice(MoneyDocument):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved (issued)"
        SENT = "sent", "Sent"
        PAID = "paid", "Paid"
        OVERDUE = "overdue", "Overdue"
        VOID = "void", "Void"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
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
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            currency_check("invoice_currency_iso4217"),
            non_negative_check("invoice_totals_non_negative", "subtotal", "tax_total", "total"),
            models.CheckConstraint(
                condition=Q(total=F("subtotal") + F("tax_total")), name="invoice_total_sum"
            ),
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

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class InvoiceLine(MoneyLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    history = HistoricalRecords()

    class Meta(MoneyLine.Meta):
        constraints = MoneyLine.line_constraints("invoiceline")

    def __str__(self) -> str:
        return self.description
