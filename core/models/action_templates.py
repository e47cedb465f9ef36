"""Action templates: the texts of proposals, follow-ups, reminders and replies."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from core.models.base import SERVICE_KEY_VALIDATOR, TimeStamped


class ActionTemplate(TimeStamped):
    """Named, parameterised text for proposals, follow-ups, reminders and replies (Django template syntax)."""

    class Kind(models.TextChoices):
        PROPOSAL = "proposal", "Proposal cover"
        FOLLOW_UP = "follow_up", "Follow-up"
        REMINDER = "reminder", "Payment reminder"
        REPLY = "reply", "Reply"

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
