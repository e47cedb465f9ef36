"""Conversations and what comes of them: messages (stored once per Message-ID), stored files,
decisions and the operator's notes."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction

from core import clock
from core.memory.capture import memory_capture_request, memory_forget_source
from core.models import Artifact, Client, Conversation, Decision, Message, Note, Project
from core.services._common import User, _apply, _save, _stamp, email_normalise

CONVERSATION_FIELDS = ("client", "project", "subject", "channel", "last_message_at")


@transaction.atomic
def conversation_create(*, by: User, **data: Any) -> Conversation:
    conversation = Conversation()
    _apply(conversation, data, allowed=CONVERSATION_FIELDS)
    return _save(conversation, by=by)


@transaction.atomic
def conversation_update(*, conversation: Conversation, by: User, **data: Any) -> Conversation:
    changed = _apply(conversation, data, allowed=CONVERSATION_FIELDS)
    return _save(conversation, by=by, update_fields=changed)


def message_id_normalise(value: str | None) -> str | None:
    """`<abc@host>` and ` abc@host ` are the same Message-ID; keep it without brackets or blanks."""
    cleaned = (value or "").strip().strip("<>").strip()
    return cleaned or None


# In the order the back office shows them.
MESSAGE_FIELDS = (
    "direction",
    "channel",
    "message_id",
    "in_reply_to",
    "references",
    "from_email",
    "from_name",
    "to",
    "cc",
    "subject",
    "sent_at",
    "body_text",
    "body_html",
)


@transaction.atomic
def message_record(*, conversation: Conversation, by: User, **data: Any) -> tuple[Message, bool]:
    """Store a message once per Message-ID: returns (message, created). A repeat is not stored again."""
    message_id = message_id_normalise(data.pop("message_id", None))
    if message_id:
        existing = Message.objects.filter(message_id=message_id).first()
        if existing:
            return existing, False
    message = Message(conversation=conversation, message_id=message_id)
    if "from_email" in data:
        data["from_email"] = email_normalise(data["from_email"], field="from_email")
    for field in ("to", "cc"):
        if field in data:
            data[field] = [email_normalise(address, field=field) for address in data[field] or []]
    _apply(message, data, allowed=MESSAGE_FIELDS)
    if message.channel == "email" and not message.message_id:
        raise ValidationError({"message_id": "An email message needs a Message-ID."})
    # Two deliveries of one mail may race; the unique index decides and the loser reads the winner.
    try:
        with transaction.atomic():
            _save(message, by=by)
    except IntegrityError:
        existing = (
            Message.objects.filter(message_id=message.message_id).first() if message.message_id else None
        )
        if existing is None:
            raise
        return existing, False
    memory_capture_request(record=message)
    stamp = message.sent_at or message.created_at
    if conversation.last_message_at is None or stamp > conversation.last_message_at:
        conversation.last_message_at = stamp
        _save(conversation, by=by, update_fields=["last_message_at"])
    return message, True


@transaction.atomic
def artifact_store(
    *,
    by: User,
    content: bytes,
    filename: str,
    mime_type: str = "application/octet-stream",
    client: Client | None = None,
    project: Project | None = None,
    extracted_text: str = "",
) -> tuple[Artifact, bool]:
    """Store a file once per content: returns (artifact, created)."""
    digest = hashlib.sha256(content).hexdigest()
    existing = Artifact.objects.filter(sha256=digest).first()
    if existing:
        return existing, False
    artifact = Artifact(
        filename=(filename or "file").strip()[:255],
        sha256=digest,
        mime_type=mime_type or "application/octet-stream",
        size=len(content),
        client=client,
        project=project,
        extracted_text=extracted_text,
    )
    artifact.file.save(f"{digest[:16]}-{artifact.filename}", ContentFile(content), save=False)
    _save(artifact, by=by)
    if artifact.extracted_text.strip():
        memory_capture_request(record=artifact)
    return artifact, True


@transaction.atomic
def decision_record(
    *,
    by: User,
    title: str,
    rationale: str = "",
    subject: models.Model | None = None,
    client: Client | None = None,
    project: Project | None = None,
    decided_at: dt.datetime | None = None,
) -> Decision:
    decision = Decision(
        title=(title or "").strip(),
        rationale=rationale,
        client=client,
        project=project,
        decided_by=by if getattr(by, "pk", None) else None,
        decided_at=decided_at or clock.now(),
    )
    if not decision.title:
        raise ValidationError({"title": "Say what was decided."})
    if subject is not None:
        decision.subject = subject
    _save(decision, by=by)
    memory_capture_request(record=decision)
    return decision


NOTE_FIELDS = ("client", "project", "text", "pinned")


def _note_check(note: Note) -> None:
    note.text = (note.text or "").strip()
    if not note.text:
        raise ValidationError({"text": "Write the note."})
    if note.project is not None:
        if note.client is None:
            note.client = note.project.client
        elif note.project.client_id != note.client.pk:
            raise ValidationError({"project": "The project belongs to another client."})


@transaction.atomic
def note_create(*, by: User, text: str, **data: Any) -> Note:
    """A note for memory; pinned notes become canonical facts."""
    note = Note(created_by=by if getattr(by, "pk", None) else None)
    _apply(note, {"text": text, **data}, allowed=NOTE_FIELDS)
    _note_check(note)
    _save(note, by=by)
    memory_capture_request(record=note)
    return note


@transaction.atomic
def note_update(*, note: Note, by: User, **data: Any) -> Note:
    changed = _apply(note, data, allowed=NOTE_FIELDS)
    _note_check(note)
    fields = set(changed) | ({"client"} if "project" in changed else set())
    _save(note, by=by, update_fields=fields)
    if fields:
        memory_capture_request(record=note)
    return note


@transaction.atomic
def note_delete(*, note: Note, by: User) -> None:
    """Delete a note and the memory made from it (its history keeps what it said)."""
    memory_forget_source(record=note)
    _stamp(note, by)
    note.delete()
