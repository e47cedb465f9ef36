"""Decisions: what was decided, why and by whom."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from simple_history.models import HistoricalRecords

from core.models.base import TimeStamped
from core.models.clients import Client
from core.models.projects import Project


class Decision(TimeStamped):
    """What was decided, why, and by whom, optionally linked to the record it is about."""

    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    title = models.CharField(max_length=300)
    rationale = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField()
    subject_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="decision_subject_idx")]

    def __str__(self) -> str:
        return self.title
