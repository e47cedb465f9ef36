"""Projects and their deliverables."""

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


class Project(TimeStamped):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    budget = models.DecimalField(**MONEY, null=True, blank=True, validators=NON_NEGATIVE)
    currency = currency_field()
    start_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            non_negative_check("project_budget_non_negative", "budget"),
            currency_check("project_currency_iso4217"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(due_date__isnull=True)
                | Q(due_date__gte=F("start_date")),
                name="project_due_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Deliverable(TimeStamped):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DELIVERED = "delivered", "Delivered"
        ACCEPTED = "accepted", "Accepted"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deliverables")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED, db_index=True)
    due_date = models.DateField(null=True, blank=True)
    estimate_hours = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, validators=NON_NEGATIVE
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [non_negative_check("deliverable_estimate_non_negative", "estimate_hours")]

    def __str__(self) -> str:
        return self.title
