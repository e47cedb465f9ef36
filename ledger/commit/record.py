"""`record.*`: canonical record changes (reversible) and deletions (a hard floor)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core import services as core_services
from ledger.commit.registry import DELETE, RECORD, committer
from ledger.models import Action, Task


class RecordUpdatePayload(BaseModel):
    model: str = Field(description="core.client, core.contact, core.project or core.deliverable")
    pk: int
    fields: dict[str, Any] = Field(min_length=1)


@committer("record.update", effect=RECORD, payload=RecordUpdatePayload, reversible=True)
def commit_record_update(action: Action, task: Task) -> dict[str, Any]:
    payload = RecordUpdatePayload.model_validate(action.payload)
    change = core_services.record_update(label=payload.model, pk=payload.pk, fields=payload.fields, by=None)
    return {"changes": [change.as_dict()]}


class RecordRevertPayload(BaseModel):
    action_id: int = Field(description="The committed action whose record change is reverted.")
    model: str
    pk: int
    history_id: int = Field(description="The history row the reverted change wrote.")


@committer("record.revert", effect=RECORD, payload=RecordRevertPayload, reversible=True)
def commit_record_revert(action: Action, task: Task) -> dict[str, Any]:
    payload = RecordRevertPayload.model_validate(action.payload)
    change = core_services.record_revert(
        label=payload.model, pk=payload.pk, history_id=payload.history_id, by=None
    )
    return {"changes": [change.as_dict()], "reverted_action": payload.action_id}


class RecordDeletePayload(BaseModel):
    model: str
    pk: int


@committer(
    "record.delete",
    effect=DELETE,
    payload=RecordDeletePayload,
    irreversible_note="A deleted record is gone; its history rows remain.",
)
def commit_record_delete(action: Action, task: Task) -> dict[str, Any]:
    payload = RecordDeletePayload.model_validate(action.payload)
    core_services.record_delete(label=payload.model, pk=payload.pk, by=None)
    return {"deleted": {"model": payload.model, "pk": payload.pk}}
