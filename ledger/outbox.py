"""Delivering outbox emails exactly once.

The row is locked (FOR UPDATE SKIP LOCKED) for the whole SMTP conversation and marked sent in the same
transaction, committed right after the server's 250 reply:
- a worker that dies before or during the SMTP transaction leaves the row pending and unlocked (the
  database rolls back when the connection drops; the SMTP server discards an unfinished message), so
  the next attempt sends it: nothing is lost;
- a second worker never sends the same row concurrently (the lock), and never after it was sent
  (status), so nothing is sent twice;
- the one window left is between the server's 250 and our COMMIT reaching PostgreSQL (tens of
  microseconds). See docs/adr/0005-outbox-exactly-once.md for why no SMTP client can close it and what
  the Message-ID derived from the action key does about it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from ledger.models import OutboxEmail

logger = logging.getLogger(__name__)


def outbox_deliver(*, email_id: int) -> bool:
    """Send one pending email; True when this call sent it, False when there was nothing to send."""
    try:
        with transaction.atomic():
            email = (
                OutboxEmail.objects.select_for_update(skip_locked=True)
                .filter(pk=email_id, status=OutboxEmail.Status.PENDING)
                .first()
            )
            if email is None:
                return False
            headers = {"Message-ID": email.message_id}
            if email.in_reply_to:
                headers["In-Reply-To"] = email.in_reply_to
            if email.references:
                headers["References"] = email.references
            message = EmailMessage(
                subject=email.subject, body=email.body_text, from_email=email.from_email, to=email.to, cc=email.cc,
                headers=headers,
                connection=get_connection(fail_silently=False, timeout=settings.AIOS_SMTP_TIMEOUT_SECONDS),
            )
            message.send()
            email.status = OutboxEmail.Status.SENT
            email.sent_at = timezone.now()
            email.attempts = F("attempts") + 1
            email.save(update_fields=["status", "sent_at", "attempts"])
    except Exception as exc:
        OutboxEmail.objects.filter(pk=email_id, status=OutboxEmail.Status.PENDING).update(
            attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    logger.info("sent outbox email %s", email_id)
    return True
