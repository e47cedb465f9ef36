"""`note.create`: a note in the canonical record."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core import services as core_services
from core.models import Client, Project
from ledger.commit.registry import RECORD, committer
from ledger.models import Action, Task


class NoteCreatePayload(BaseModel):
    text: str = Field(min_length=1)
    client_id: int | None = None
    project_id: int | None = None


@committer(
    "note.create",
    effect=RECORD,
    payload=NoteCreatePayload,
    irreversible_note="A note stays in the record; edit or delete it in the back office.",
)
def commit_note_create(action: Action, task: Task) -> dict[str, Any]:
    payload = NoteCreatePayload.model_validate(action.payload)
    note = core_services.note_create(
        by=None,
        text=payload.text,
        client=Client.objects.filter(pk=payload.client_id).first() if payload.client_id else None,
        project=Project.objects.filter(pk=payload.project_id).first() if payload.project_id else None,
    )
    return {"note": note.pk}
