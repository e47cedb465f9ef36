"""The operator's notes, the source of canonical memory."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.memory.capture import memory_capture_request, memory_forget_source
from core.models import Note
from core.services._common import User, _apply, _save, _stamp

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
