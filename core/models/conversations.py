"""Conversations and what comes of them: messages, stored files, decisions and the operator's notes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models.base import TimeStamped, email_normalised_check
from core.models.clients import Client, Project
from core.states import Channel, MessageDirection


class Artifact(TimeStamped):
    """A stored file, deduplicated by content hash."""

    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="artifacts"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="artifacts"
    )
    file = models.FileField(upload_to="artifacts/%Y/%m/")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, unique=True, validators=[RegexValidator(r"^[0-9a-f]{64}$")])
    mime_type = models.CharField(max_length=127, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    extracted_text = models.TextField(blank=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return self.filename


class Conversation(TimeStamped):
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    subject = models.CharField(max_length=500, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-last_message_at", "-pk"]

    def __str__(self) -> str:
        return self.subject or f"Conversation #{self.pk}"


class Message(TimeStamped):
    Direction = MessageDirection

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices, db_index=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    message_id = models.CharField(
        max_length=998,
        null=True,
        blank=True,
        unique=True,
        help_text="RFC 5322 Message-ID without angle brackets; unique across the workspace.",
    )
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    from_email = models.EmailField(blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attachments = models.ManyToManyField(Artifact, blank=True, related_name="messages")
    history = HistoricalRecords(m2m_fields=[attachments])

    class Meta:
        ordering = ["sent_at", "pk"]
        constraints = [
            email_normalised_check("message_from_email_normalised", "from_email"),
            models.CheckConstraint(
                condition=~Q(channel="email") | Q(message_id__isnull=False),
                name="message_email_has_message_id",
            ),
            models.CheckConstraint(condition=~Q(message_id=""), name="message_id_not_blank"),
        ]

    def __str__(self) -> str:
        return self.subject or f"Message #{self.pk}"


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

    class Meta(TimeStamped.Meta):
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="note_text_not_blank")]

    def __str__(self) -> str:
        return self.text[:80]
