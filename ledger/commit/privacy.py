"""`client.export` and `client.erase`: a client's data handed back or erased, once the operator approved.

Both are of the `personal` effect class, a hard floor: no policy and no request in person lets them commit
without the operator approving the action itself (ledger.policy.floors)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from pydantic import BaseModel

from core import privacy
from core.models import Client
from ledger.commit.registry import PERSONAL, committer
from ledger.models import Action, Task


class ClientDataPayload(BaseModel):
    client_id: int


def _client(payload: ClientDataPayload, task: Task) -> Client:
    """The client the request named: an edit on the approval page cannot point the effect at another one."""
    if payload.client_id != (task.input or {}).get("client_id"):
        raise ValidationError(
            {"client_id": "The request was about another client; ask again for this one from its page."}
        )
    return Client.objects.get(pk=payload.client_id)


def _sha256(path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@committer(
    "client.export",
    effect=PERSONAL,
    irreversible_note="An export hands data over; once downloaded it cannot be taken back.",
)
def commit_client_export(payload: ClientDataPayload, action: Action, task: Task) -> dict[str, Any]:
    client = _client(payload, task)
    result = privacy.client_export(client=client, name=f"{task.pk}.zip")
    return {
        "client": client.pk,
        "path": str(result.path),
        "size": result.size,
        "sha256": _sha256(result.path),
        "counts": result.counts,
    }


@committer(
    "client.erase",
    effect=PERSONAL,
    irreversible_note="Erased personal data is gone for good (backups age out after AIOS_BACKUP_KEEP days).",
)
def commit_client_erase(payload: ClientDataPayload, action: Action, task: Task) -> dict[str, Any]:
    client = _client(payload, task)
    counts = privacy.client_erase(client=client, by=action.decided_by)
    return {"client": client.pk, "counts": counts}
