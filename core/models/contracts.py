"""Contracts with clients."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from core.models.base import (
    MONEY,
    NON_NEGATIVE,
    TimeStamped,
    currency_check,
    currency_field,
    non_negative_check,
)
from core.models.clients import Client
from core.models.projects import Project


class Contract(TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        SIGNED = "signed", "Signed"
        EXPIRED = "expired", "Expired"
        TERMINATED = "terminated", "Terminated"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="contracts")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    value = models.DecimalField(**MONEY, null=True, blank=True, validators=NON_NEGATIVE)
    currency = currency_field()
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    terms = models.TextField(blank=True)
    document = models.ForeignKey(
        "Artifact", on_delete=models.SET_NULL, null=True, blank=True, related_name="contracts"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            non_negative_check("contract_value_non_negative", "value"),
            currency_check("contract_currency_iso4217"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="contract_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title
