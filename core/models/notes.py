"""The operator's notes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models.base import TimeStamped
from core.models.clients import Client
from core.models.projects import Project


class Note(TimeStamped):
    """Something the operator wants remembered about a client or project. Pinned notes are canonical
    memory: never compressed, never expired, never deleted by retention."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="operator_notes"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="operator_notes"
    )
    text = models.TextField()
    pinned = models.BooleanField(
        default=False, help_text="Pinned notes are canonical facts: kept for good and recalled first."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="note_text_not_blank")]

    def __str__(self) -> str:
        return self.text[:80]
