"""Proposals and their lines."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.models.base import currency_check, non_negative_check
from core.models.clients import Client
from core.models.money import MoneyDocument, MoneyLine
from core.models.projects import Project


class Proposal(MoneyDocument):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING_APPROVAL = "pending_approval", "Pending approval"
        SENT = "sent", "Sent"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="proposals")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="proposals"
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    valid_until = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    cover_letter = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            currency_check("proposal_currency_iso4217"),
            non_negative_check("proposal_totals_non_negative", "subtotal", "tax_total", "total"),
            models.CheckConstraint(
                condition=Q(total=F("subtotal") + F("tax_total")), name="proposal_total_sum"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class ProposalLine(MoneyLine):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines")
    history = HistoricalRecords()

    class Meta(MoneyLine.Meta):
        constraints = MoneyLine.line_constraints("proposalline")

    def __str__(self) -> str:
        return self.description
