"""Email in: every raw mail, whatever path it came by, becomes a canonical `core.Message` here — or waits
in the review queue with its raw bytes and the reason. Nothing raised while parsing or storing a mail
escapes `mail_ingest`: the mail lands in review instead.

```
mail_ingest(raw, path, source, mailbox)
  receipt: InboundMail(status received, raw bytes, sha256)            committed first: never lost
  import (one transaction, the receipt row locked):
    too large · parser's fatal · broken MIME · unknown charset · no Message-ID · no sender
      · no body and no attachments · an attachment over the limit          ⇒ review (reason)
    Message-ID already stored: same bytes or same content                   ⇒ duplicate
                               different content (a reused or forged id)    ⇒ review
    thread by In-Reply-To / References if the sender may join it (the thread's client's people or the
      operator; core.selectors.thread_admits), else a new conversation (client by the sender's address)
    core.services.message_record (the unique Message-ID decides a race ⇒ duplicate), attachments as
    artifacts (sha256 dedupe) ⇒ imported; after commit: intake_submit (connectors.intake_hook)
  anything unexpected ⇒ review with the exception's message
```

The same bytes in review twice are one review row (a partial unique index on sha256); retrying a row in
review (`inbound_retry`, the admin's "Retry import") imports that same row again.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from connectors.intake_hook import intake_submit
from connectors.mime import ParsedMail, parse_message
from connectors.models import InboundMail, Mailbox
from core import clock
from core import selectors as core_selectors
from core import services as core_services
from core.dbtext import db_text
from core.models import Channel, Message

logger = logging.getLogger(__name__)

ENV_MAILBOX_NAME = "env"
# Where each field of a Message ends; longer values are cut rather than refused (a mail is still a mail).
_SUBJECT_MAX, _CONVERSATION_SUBJECT_MAX, _NAME_MAX, _HEADER_MAX = 998, 500, 200, 998


class _Refused(Exception):
    """The mail cannot become a Message: it waits for review with this reason."""

    def __init__(self, reason: str, *, message_id: str = "", problems: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message_id = message_id
        self.problems = problems or []


class _AlreadyStored(Exception):
    """Another delivery of the same Message-ID committed first (two paths at once)."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.message_id)
        self.message = message


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


# --- Entry points ----------------------------------------------------------------------------


def mail_ingest(*, raw: bytes, path: str, source: str = "", mailbox: Mailbox | None = None) -> InboundMail:
    """Receive one raw mail through `path` (imap, file or webhook) and import it. Never raises because of
    the mail's content: the returned row says imported, duplicate or review (with the reason)."""
    if path not in InboundMail.Path.values:
        raise ValueError(f"Unknown inbound path {path!r}; one of {', '.join(InboundMail.Path.values)}")
    raw = bytes(raw)
    inbound = _receipt(raw=raw, path=path, source=source, mailbox=mailbox)
    return _import(inbound=inbound, raw=raw)


def inbound_retry(*, inbound: InboundMail) -> InboundMail:
    """Import a mail in review (or one whose import never finished) again from its stored bytes, e.g.
    after the operator raised a limit; the same row then says what happened this time."""
    if inbound.status not in (InboundMail.Status.REVIEW, InboundMail.Status.RECEIVED):
        shown = inbound.get_status_display()
        raise ValidationError({"status": f"Only mail in review can be imported again; this one is {shown}."})
    return _import(inbound=inbound, raw=bytes(inbound.raw))


ABANDONED_REASON = (
    "The import of this mail stopped before it finished (the process ended while parsing or storing it); "
    "it was not tried again automatically. Retry it once the cause is fixed."
)


def inbound_resume(*, source: str) -> InboundMail | None:
    """The receipt already made for `source` (an IMAP mailbox:uidvalidity:uid), if any.

    A poller that finds one does not fetch that mail again: it was stored, and only the cursor was not
    saved — or its import never finished, because the process died on it. That receipt goes to review
    instead of being retried, so one mail that kills the importer cannot stop a mailbox for good.
    """
    inbound = InboundMail.objects.filter(source=source[:1000]).order_by("pk").first()
    if inbound is not None and inbound.status == InboundMail.Status.RECEIVED:
        return _to_review(inbound=inbound, reason=ABANDONED_REASON)
    return inbound


def _receipt(*, raw: bytes, path: str, source: str, mailbox: Mailbox | None) -> InboundMail:
    digest = hashlib.sha256(raw).hexdigest()
    with transaction.atomic():
        in_review = InboundMail.objects.filter(sha256=digest, status=InboundMail.Status.REVIEW).first()
        if in_review is not None:
            # Known bad bytes again: look at them once more (limits may have changed), in the same row.
            return in_review
        return InboundMail.objects.create(
            path=path,
            mailbox=mailbox,
            source=(source or "")[:1000],
            raw=raw,
            sha256=digest,
            size=len(raw),
            status=InboundMail.Status.RECEIVED,
        )


def _import(*, inbound: InboundMail, raw: bytes) -> InboundMail:
    try:
        with transaction.atomic():
            # Locked: an admin retry and a new delivery of the same bytes never import one row twice.
            locked = InboundMail.objects.select_for_update().get(pk=inbound.pk)
            if locked.status in (InboundMail.Status.RECEIVED, InboundMail.Status.REVIEW):
                with core_services.history_reason(f"email in: inbound mail {locked.pk}"):
                    _import_locked(inbound=locked, raw=raw)
            return locked
    except _Refused as refused:
        return _to_review(
            inbound=inbound, reason=refused.reason, message_id=refused.message_id, problems=refused.problems
        )
    except Exception as exc:  # noqa: BLE001 - the importer's promise: a mail never raises, it waits for review
        logger.exception("import of inbound mail %s failed", inbound.pk)
        return _to_review(inbound=inbound, reason=_exception_reason(exc))


def _exception_reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        detail = "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in getattr(exc, "message_dict", {}).items()
        ) or " ".join(exc.messages)
        return f"The mail could not be stored: {detail}"
    return f"The import failed: {type(exc).__name__}: {exc}"


def _to_review(
    *, inbound: InboundMail, reason: str, message_id: str = "", problems: list[str] | None = None
) -> InboundMail:
    values = {
        "status": InboundMail.Status.REVIEW,
        "reason": reason or "The mail could not be imported.",
        "message_id_header": (message_id or "")[:_HEADER_MAX],
        "problems": problems or [],
        "message": None,
        "updated_at": clock.now(),
    }
    try:
        with transaction.atomic():
            InboundMail.objects.filter(pk=inbound.pk).update(**values)
    except IntegrityError:
        # The same bytes arrived twice at once and the other copy reached the review queue first: one row
        # is enough (its raw bytes are these), so this receipt goes.
        with transaction.atomic():
            InboundMail.objects.filter(pk=inbound.pk, status=InboundMail.Status.RECEIVED).delete()
        return InboundMail.objects.get(sha256=inbound.sha256, status=InboundMail.Status.REVIEW)
    inbound.refresh_from_db()
    return inbound


# --- Checks --------------------------------------------------------------------------------


@dataclass
class _Recipients:
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _valid_address(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def _recipients(parsed: ParsedMail) -> _Recipients:
    """Valid To/Cc addresses; a malformed one (`undisclosed-recipients`) is noted, not fatal."""
    result = _Recipients()
    for name in ("to", "cc"):
        kept = getattr(result, name)
        for address in getattr(parsed, name) or []:
            address = (address or "").strip().lower()
            if not address or address in kept:
                continue
            if _valid_address(address):
                kept.append(address)
            else:
                result.ignored.append(f"ignored the {name} address {address!r}: not a valid email address")
    return result


_UNKNOWN_CHARSET = re.compile(r"^unknown charset (?P<charset>'[^']*'|\"[^\"]*\") in (?P<where>[^:]+)")
_BROKEN_NESTED = re.compile(r"^broken nested (?P<type>\S+)")


def _refusal(parsed: ParsedMail) -> str | None:
    """Why this parsed mail cannot become a Message, or None.

    The parser repairs what it can and lists it in `problems`; two repairs change what the mail says, so
    the operator looks first: text decoded from a charset nobody knows (it may be garbled), and a nested
    multipart whose parts were lost.
    """
    if parsed.fatal:
        return f"The mail cannot be read: {parsed.fatal}."
    if not parsed.message_id:
        return "The mail has no Message-ID header, so it could not be told apart from a second copy."
    if not parsed.from_email or not _valid_address(parsed.from_email):
        shown = f" ({parsed.from_email!r})" if parsed.from_email else ""
        return f"The mail has no valid sender address in its From header{shown}."
    for problem in parsed.problems:
        unknown = _UNKNOWN_CHARSET.match(problem)
        if unknown:
            return (
                f"Unknown charset {unknown['charset']} in the {unknown['where']}: the text was guessed "
                "(utf-8 or latin-1) and may be garbled."
            )
        if problem.startswith("MIME nesting deeper than"):
            return (
                "The mail nests its MIME parts deeper than 30 levels (an attack or a broken mailer): the "
                "parts below were not read."
            )
        nested = _BROKEN_NESTED.match(problem)
        if nested:
            lost = nested["type"]
            return f"Broken MIME structure: a nested {lost} has no usable boundary; its parts are lost."
    limit = settings.AIOS_ATTACHMENT_MAX_BYTES
    too_large = [attachment for attachment in parsed.attachments if len(attachment.content) > limit]
    if too_large:
        names = ", ".join(f"{a.filename or 'unnamed'} ({_megabytes(len(a.content))})" for a in too_large)
        return f"Attachment over the {_megabytes(limit)} limit (AIOS_ATTACHMENT_MAX_BYTES): {names}."
    if not (parsed.text or "").strip() and not parsed.attachments:
        return "The mail has an empty body: no text and no attachments."
    return None


# --- Import -----------------------------------------------------------------------------------


def _import_locked(*, inbound: InboundMail, raw: bytes) -> None:
    limit = settings.AIOS_MAIL_MAX_BYTES
    if len(raw) > limit:
        raise _Refused(
            f"The mail is {_megabytes(len(raw))}, over the {_megabytes(limit)} limit (AIOS_MAIL_MAX_BYTES)."
        )
    parsed = parse_message(raw)
    message_id = core_services.message_id_normalise(parsed.message_id) or ""
    problems = list(parsed.problems)
    reason = _refusal(parsed)
    if reason:
        raise _Refused(reason, message_id=message_id, problems=problems)

    existing = core_selectors.messages_by_message_id(message_ids=[message_id]).get(message_id)
    if existing is not None:
        _duplicate_or_collision(inbound=inbound, message=existing, parsed=parsed, problems=problems)
        return

    recipients = _recipients(parsed)
    problems.extend(recipients.ignored)
    try:
        # A savepoint: losing the race to another delivery undoes the conversation made for it.
        with transaction.atomic():
            message = _message_store(
                parsed=parsed, message_id=message_id, recipients=recipients, problems=problems
            )
    except _AlreadyStored as lost:
        _duplicate_or_collision(inbound=inbound, message=lost.message, parsed=parsed, problems=problems)
        return

    inbound.status = InboundMail.Status.IMPORTED
    inbound.reason = ""
    inbound.message = message
    inbound.message_id_header = message_id
    inbound.problems = problems
    inbound.save(update_fields=["status", "reason", "message", "message_id_header", "problems", "updated_at"])
    transaction.on_commit(functools.partial(intake_submit, message_pk=message.pk, parsed=parsed), robust=True)


def _content_key(*, from_email: str, subject: str, text: str, attachments: list[str]) -> str:
    """What a mail says, independent of its transport: two copies of one mail (fetched by IMAP and posted
    to the webhook, with different trace headers or line endings) have the same key."""
    words = " ".join(db_text(text).split())
    parts = [from_email.strip().lower(), " ".join(db_text(subject).split()), words, *sorted(attachments)]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _same_content(*, message: Message, parsed: ParsedMail, sha256: str) -> bool:
    if InboundMail.objects.filter(message=message, sha256=sha256).exists():
        return True
    key = _content_key(
        from_email=parsed.from_email,
        subject=(parsed.subject or "").strip()[:_SUBJECT_MAX],
        text=parsed.text or "",
        attachments=[hashlib.sha256(attachment.content).hexdigest() for attachment in parsed.attachments],
    )
    stored = _content_key(
        from_email=message.from_email,
        subject=message.subject,
        text=message.body_text,
        attachments=list(message.attachments.values_list("sha256", flat=True)),
    )
    return key == stored


def _duplicate_or_collision(
    *, inbound: InboundMail, message: Message, parsed: ParsedMail, problems: list[str]
) -> None:
    """The same mail again is a duplicate; another mail reusing its Message-ID (a forger replaying an id
    from a thread, a broken mailer numbering its mails alike) waits for the operator instead of being
    hidden as a "duplicate" of something it is not."""
    if _same_content(message=message, parsed=parsed, sha256=inbound.sha256):
        _mark_duplicate(inbound=inbound, message=message, problems=problems)
        return
    raise _Refused(
        f"Another mail already has the Message-ID <{message.message_id}> (message {message.pk} in "
        f"conversation {message.conversation_id}) but different content: this one was kept for review "
        "instead of being taken for a copy.",
        message_id=message.message_id,
        problems=problems,
    )


def _mark_duplicate(*, inbound: InboundMail, message: Message, problems: list[str]) -> None:
    inbound.status = InboundMail.Status.DUPLICATE
    inbound.reason = ""
    inbound.message = message
    inbound.message_id_header = message.message_id or ""
    inbound.problems = problems
    fields = ["status", "reason", "message", "message_id_header", "problems", "updated_at"]
    kept_elsewhere = (
        InboundMail.objects.filter(sha256=inbound.sha256)
        .exclude(pk=inbound.pk)
        .exclude(status=InboundMail.Status.DUPLICATE)
        .exists()
    )
    if kept_elsewhere:
        # Identical bytes are kept on another row already; re-reads of a whole mailbox (a new
        # UIDVALIDITY, an import run twice) would otherwise store every mail again.
        inbound.raw = b""
        fields.append("raw")
    inbound.save(update_fields=fields)


def _thread_parent(parsed: ParsedMail) -> Message | None:
    """The stored message this one answers: In-Reply-To first, then References from the newest."""
    candidates = [parsed.in_reply_to, *reversed(parsed.references or [])]
    wanted = [core_services.message_id_normalise(value) for value in candidates]
    wanted = [value for value in wanted if value]
    found = core_selectors.messages_by_message_id(message_ids=wanted)
    return next((found[value] for value in wanted if value in found), None)


def _message_store(
    *, parsed: ParsedMail, message_id: str, recipients: _Recipients, problems: list[str]
) -> Message:
    subject = (parsed.subject or "").strip()
    parent = _thread_parent(parsed)
    if parent is not None and not core_selectors.thread_admits(
        conversation=parent.conversation, email=parsed.from_email
    ):
        problems.append(
            "In-Reply-To/References point into a thread its sender is not part of: "
            "started a thread of its own."
        )
        parent = None
    if parent is not None:
        conversation = parent.conversation
    else:
        conversation = core_services.conversation_create(
            by=None,
            subject=subject[:_CONVERSATION_SUBJECT_MAX],
            channel=Channel.EMAIL,
            client=core_selectors.client_for_address(email=parsed.from_email),
        )
    references = [core_services.message_id_normalise(value) for value in parsed.references or []]
    try:
        message, created = core_services.message_record(
            conversation=conversation,
            by=None,
            direction=Message.Direction.INBOUND,
            channel=Channel.EMAIL,
            message_id=message_id,
            in_reply_to=(core_services.message_id_normalise(parsed.in_reply_to) or "")[:_HEADER_MAX],
            references=" ".join(value for value in references if value),
            from_email=parsed.from_email,
            from_name=(parsed.from_name or "").strip()[:_NAME_MAX],
            to=recipients.to,
            cc=recipients.cc,
            subject=subject[:_SUBJECT_MAX],
            body_text=parsed.text or "",
            body_html=parsed.html or "",
            sent_at=parsed.date or clock.now(),
        )
    except ValidationError:
        # message_record's model validation checks the unique Message-ID with a query of its own: when
        # another delivery commits between its first look and that query, the refusal is a ValidationError.
        existing = core_selectors.messages_by_message_id(message_ids=[message_id]).get(message_id)
        if existing is None:
            raise
        raise _AlreadyStored(existing) from None
    if not created:
        raise _AlreadyStored(message)
    artifacts = []
    for attachment in parsed.attachments:
        artifact, _ = core_services.artifact_store(
            by=None,
            content=attachment.content,
            filename=attachment.filename or "attachment",
            mime_type=attachment.mime_type or "application/octet-stream",
            client=conversation.client,
            extracted_text=_attachment_text(attachment.mime_type, attachment.content),
        )
        artifacts.append(artifact)
    if artifacts:
        # core has no service for linking a message's attachments; the M2M (with history) is the link.
        message.attachments.add(*artifacts)
    return message


_TEXT_ATTACHMENTS = {"text/plain", "text/csv", "text/markdown"}


def _attachment_text(mime_type: str, content: bytes) -> str:
    """Plain-text attachments (a brief, a CSV) are readable as they are; other formats are not parsed."""
    if (mime_type or "").lower() not in _TEXT_ATTACHMENTS:
        return ""
    return content.decode("utf-8", errors="replace")


# --- Mailboxes ------------------------------------------------------------------------------------


def mailbox_env_sync() -> Mailbox | None:
    """The mailbox named "env" made to match the AIOS_IMAP_* settings (None when AIOS_IMAP_HOST is unset).

    Pointing it at another server, account or folder starts its cursor over: old UIDs mean nothing there.
    """
    if not settings.AIOS_IMAP_HOST:
        return None
    wanted = {
        "host": settings.AIOS_IMAP_HOST,
        "port": settings.AIOS_IMAP_PORT,
        "use_ssl": settings.AIOS_IMAP_SSL,
        "username": settings.AIOS_IMAP_USER,
        "password": settings.AIOS_IMAP_PASSWORD,
        "folder": settings.AIOS_IMAP_FOLDER,
    }
    with transaction.atomic():
        mailbox, created = Mailbox.objects.get_or_create(name=ENV_MAILBOX_NAME, defaults=wanted)
        if created:
            return mailbox
        mailbox = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
        changed = [name for name, value in wanted.items() if getattr(mailbox, name) != value]
        if not changed:
            return mailbox
        for name in changed:
            setattr(mailbox, name, wanted[name])
        if {"host", "username", "folder"} & set(changed):
            mailbox.last_uidvalidity, mailbox.last_uid = None, 0
            changed += ["last_uidvalidity", "last_uid"]
        mailbox.save(update_fields=[*changed, "updated_at"])
        return mailbox


def mailbox_cursor_set(*, mailbox: Mailbox, uidvalidity: int, last_uid: int) -> None:
    """Remember how far a mailbox was read; saved after each mail, so a crash resumes where it stopped.

    A plain UPDATE: the cursor is not configuration and writes no history row.
    """
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uidvalidity=uidvalidity, last_uid=last_uid)
    mailbox.last_uidvalidity, mailbox.last_uid = uidvalidity, last_uid


def mailbox_poll_finish(*, mailbox: Mailbox, error: str = "") -> None:
    now = clock.now()
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=now, last_error=error)
    mailbox.last_polled_at, mailbox.last_error = now, error
