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

import contextlib
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce

from core import clock
from ledger.models import OutboxEmail

logger = logging.getLogger(__name__)


def outbox_deliver(*, email_id: int) -> bool:
    """Send one pending email; True when this call sent it, False when there was nothing to send."""
    smtp = get_connection(fail_silently=False, timeout=settings.AIOS_SMTP_TIMEOUT_SECONDS)
    try:
        with transaction.atomic():
            email = (
                OutboxEmail.objects.select_for_update(skip_locked=True)
                .filter(pk=email_id, status=OutboxEmail.Status.PENDING)
                .first()
            )
            if email is None:
                return False
            # Marked sent before the SMTP conversation, uncommitted: once the server's 250 arrives,
            # only the COMMIT is left to do, which keeps the unavoidable window as short as it gets.
            OutboxEmail.objects.filter(pk=email.pk).update(
                status=OutboxEmail.Status.SENT,
                sent_at=clock.now(),
                attempts=F("attempts") + 1,
                last_error="",
            )
            smtp.open()
            smtp.send_messages([_message(email)])
    except Exception as exc:
        with contextlib.suppress(Exception):  # the original error is the one worth reporting
            smtp.close()
        now = clock.now()
        OutboxEmail.objects.filter(pk=email_id, status=OutboxEmail.Status.PENDING).update(
            attempts=F("attempts") + 1,
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
            first_failed_at=Coalesce(F("first_failed_at"), now),
        )
        raise
    # The QUIT round trip happens after the commit, outside the window; the email is sent and recorded
    # as such, so a server that drops the connection now changes nothing.
    with contextlib.suppress(Exception):
        smtp.close()
    logger.info("sent outbox email %s", email_id)
    return True


def delivery_refused_for_good(exc: BaseException) -> bool:
    """True when the server refused this email itself with a permanent (5xx) reply — every recipient, or
    the content: trying again gets the same refusal. Anything else is tried again: no connection, a
    timeout, a 4xx "try later", and also a refused login or sender, which are the workspace's settings
    (the same for every email) and which the operator can fix while the mail waits."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return False


def _message(email: OutboxEmail) -> EmailMessage:
    headers = {"Message-ID": email.message_id}
    if email.in_reply_to:
        headers["In-Reply-To"] = email.in_reply_to
    if email.references:
        headers["References"] = email.references
    return EmailMessage(
        subject=email.subject,
        body=email.body_text,
        from_email=email.from_email,
        to=email.to,
        cc=email.cc,
        headers=headers,
    )
