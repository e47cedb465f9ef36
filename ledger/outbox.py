"""Delivering outbox emails: never lost, sent twice only when it cannot be known, and then said so.

One deliverer at a time holds a session advisory lock on the row's id (released by PostgreSQL when the
process dies) and records each step in its own committed statement:
- a worker that dies before the message's final "." left leaves the row pending with no stamp: the SMTP
  server discards a message whose final "." never came (RFC 5321), so the next attempt sends it: nothing
  is lost and nothing is doubled;
- just before the final "." goes out, `data_sent_at` is committed; the server's reply clears it (sent:
  the row is marked sent; refused: the error is recorded). A row still pending with the stamp set means
  the attempt died between the "." and our record of the reply — the one window no SMTP client can close
  (the protocol has no way to ask the server "do you have message X?"). The next attempt sends it again
  with the same Message-ID, counts it in `uncertain_resends`, and the operator gets a notice: the rare
  double is known, named and explained, never silent (docs/adr/0005-outbox-exactly-once.md);
- a second deliverer never sends a row that is being sent (the lock) nor one that was sent (status).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import smtplib
from collections.abc import Callable, Iterator

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce

from core import clock
from ledger.models import OutboxEmail

logger = logging.getLogger(__name__)

_FINAL_DOT = b"\r\n.\r\n"


class Delivery(enum.Enum):
    NOTHING = "nothing"  # sent already, or another process is sending it right now
    SENT = "sent"
    # Sent after an attempt that may have reached the server already: the recipient may have it twice.
    RESENT = "resent"


def outbox_deliver(*, email_id: int) -> Delivery:
    """Send one pending email. The conductor calls it outside any transaction, so that each record below
    commits when it is made (inside one — a test's — they all commit together)."""
    with _delivery_lock(email_id) as held:
        if not held:
            return Delivery.NOTHING
        email = OutboxEmail.objects.filter(pk=email_id, status=OutboxEmail.Status.PENDING).first()
        if email is None:
            return Delivery.NOTHING
        uncertain = email.data_sent_at is not None
        rows = OutboxEmail.objects.filter(pk=email_id)
        with transaction.atomic():  # the count of resends and the operator's notice go together
            rows.update(
                attempts=F("attempts") + 1,
                data_sent_at=None,
                uncertain_resends=F("uncertain_resends") + int(uncertain),
            )
            if uncertain:
                _uncertain_resend_notice(email)
        backend = get_connection(fail_silently=False, timeout=settings.AIOS_SMTP_TIMEOUT_SECONDS)
        try:
            backend.open()
            message = _message(email)
            stamp = lambda: rows.update(data_sent_at=clock.now())  # noqa: E731
            if isinstance(backend, SmtpBackend):
                _stamp_before_final_dot(backend.connection, stamp)
            else:  # a local backend (files, tests' memory): no protocol to split, the stamp comes first
                stamp()
            backend.send_messages([message])
        except Exception as exc:
            with contextlib.suppress(Exception):  # the original error is the one worth reporting
                backend.close()
            now = clock.now()
            failed = {
                "last_error": f"{type(exc).__name__}: {exc}"[:2000],
                "first_failed_at": Coalesce(F("first_failed_at"), now),
            }
            if isinstance(exc, smtplib.SMTPResponseException):
                failed["data_sent_at"] = None  # the server answered: it refused the message, certainly
            rows.filter(status=OutboxEmail.Status.PENDING).update(**failed)
            raise
        rows.update(status=OutboxEmail.Status.SENT, sent_at=clock.now(), last_error="", data_sent_at=None)
    # QUIT comes after the record: the email is sent and recorded, a server dropping the line changes nothing.
    with contextlib.suppress(Exception):
        backend.close()
    logger.info("sent outbox email %s%s", email_id, " again (may be a duplicate)" if uncertain else "")
    return Delivery.RESENT if uncertain else Delivery.SENT


@contextlib.contextmanager
def _delivery_lock(email_id: int) -> Iterator[bool]:
    """A session advisory lock on the row: held across the commits of one attempt, released by the
    server if this process dies, so a crashed sender never blocks the next one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext('aios.outbox'), %s)", [email_id])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext('aios.outbox'), %s)", [email_id])


def _stamp_before_final_dot(smtp: smtplib.SMTP, stamp: Callable[[], object]) -> None:
    """Split the DATA payload smtplib sends in one piece: the message, then our stamp, then the final
    ".". Until that "." arrives the server holds no message; after it, only its reply tells."""
    send = smtp.send

    def send_stamping(data: bytes | str) -> None:
        if isinstance(data, bytes) and data.endswith(_FINAL_DOT):  # commands are str; only DATA is bytes
            send(data[: -len(_FINAL_DOT) + 2])  # the message with its last CRLF
            stamp()
            send(data[-len(_FINAL_DOT) + 2 :])  # ".\r\n"
        else:
            send(data)

    smtp.send = send_stamping  # type: ignore[method-assign]


def _uncertain_resend_notice(email: OutboxEmail) -> None:
    from django.urls import reverse

    from ledger.services.notices import notice_raise  # the services import this module

    notice_raise(
        key=f"outbox:uncertain:{email.pk}",
        title=f"\u201c{email.subject}\u201d may reach {', '.join(email.to)} twice",
        body=(
            "A worker stopped after the message was handed to the mail server and before it could record "
            "the server's answer, so it is sent again with the same Message-ID (mail programs that "
            "recognise the Message-ID show it once). Nothing else needs doing; if the recipient mentions "
            "two copies, this is why."
        ),
        link=reverse("admin:ledger_outboxemail_change", args=[email.pk]),
        task=email.action.task,
    )


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
    message = EmailMessage(
        subject=email.subject,
        body=email.body_text,
        from_email=email.from_email,
        to=email.to,
        cc=email.cc,
        headers=headers,
    )
    for artifact in email.attachments.order_by("pk"):
        with artifact.file.open("rb") as handle:
            message.attach(artifact.filename, handle.read(), artifact.mime_type)
    return message
