"""Email in: the IMAP accounts the workspace polls, and a receipt for every raw mail received.

`InboundMail` is the one record of "a mail came in" whatever the path (IMAP, a file import, the signed
webhook): its raw bytes are kept, so a mail that cannot be turned into a canonical `core.Message` waits
in the review queue (status `review`) with the reason, never dropped. Written only by
`connectors.services`; nothing here has logic in `save()`.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Mailbox(models.Model):
    """An IMAP account and folder, polled every minute when enabled.

    The password must be stored readable: IMAP LOGIN needs it, so it cannot be hashed. It is never shown
    back (the admin form is write-only, there is no API) and is kept out of the history table; for a
    production secret prefer the AIOS_IMAP_* variables, which become the mailbox named "env".
    """

    name = models.CharField(max_length=100, unique=True)
    host = models.CharField(max_length=255)
    port = models.PositiveIntegerField(
        default=993, validators=[MinValueValidator(1), MaxValueValidator(65535)]
    )
    use_ssl = models.BooleanField("SSL/TLS", default=True, help_text="IMAPS (usually port 993).")
    username = models.CharField(max_length=255)
    password = models.CharField(max_length=255, blank=True)
    folder = models.CharField(max_length=255, default="INBOX")
    enabled = models.BooleanField(default=True)
    # Where polling resumes: UIDs are only meaningful together with the folder's UIDVALIDITY.
    last_uidvalidity = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.PositiveBigIntegerField(default=0, editable=False)
    last_polled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The poll cursor changes every minute and is not configuration; the password must not be copied.
    history = HistoricalRecords(
        excluded_fields=["password", "last_uidvalidity", "last_uid", "last_polled_at", "last_error"]
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="mailbox_name_not_blank"),
            models.CheckConstraint(condition=~Q(host=""), name="mailbox_host_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class InboundMail(models.Model):
    class Path(models.TextChoices):
        IMAP = "imap", "IMAP"
        FILE = "file", "File import"
        WEBHOOK = "webhook", "Webhook"

    class Status(models.TextChoices):
        # The receipt is committed before the mail is parsed: a row left `received` is a mail whose
        # import never finished (the process died on it); it can be retried from the admin.
        RECEIVED = "received", "Received"
        IMPORTED = "imported", "Imported"
        DUPLICATE = "duplicate", "Duplicate"
        REVIEW = "review", "In review"

    path = models.CharField(max_length=10, choices=Path.choices)
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_mails"
    )
    source = models.CharField(
        max_length=1000, blank=True, help_text="IMAP mailbox:uidvalidity:uid, file path, or webhook request."
    )
    raw = models.BinaryField(blank=True, help_text="The mail exactly as received.")
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    # The Message-ID header (the `message` foreign key's column is `message_id`).
    message_id_header = models.CharField("Message-ID", max_length=998, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    reason = models.TextField(blank=True, help_text="Why the mail is in review.")
    problems = models.JSONField(
        default=list, blank=True, help_text="What the parser noticed (repaired or ignored)."
    )
    message = models.ForeignKey(
        "core.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="inbound_mails"
    )
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = "inbound mail"
        verbose_name_plural = "inbound mail"
        constraints = [
            # The same bytes arriving again are the same problem: one row in the review queue.
            models.UniqueConstraint(
                fields=["sha256"], condition=Q(status="review"), name="inbound_review_once_per_content"
            ),
            models.CheckConstraint(
                condition=~Q(status="review") | ~Q(reason=""), name="inbound_review_has_reason"
            ),
        ]
        indexes = [models.Index(fields=["source"], name="inbound_source_idx")]

    def __str__(self) -> str:
        return f"{self.get_path_display()} mail #{self.pk} ({self.get_status_display().lower()})"
