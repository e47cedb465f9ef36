"""`memory.*`: the workspace's own memory (internal: no business record changes, nothing leaves)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from pydantic import BaseModel, Field

from core.memory import services as memory_services
from core.memory.capture import capture_of, source_get
from core.models import Client, Project
from ledger.commit.registry import INTERNAL, committer, row_or_none
from ledger.models import Action, Task


class MemoryStorePayload(BaseModel):
    source: str
    id: int
    kind: str
    tier: str
    client: int | None = None
    project: int | None = None
    importance: float = Field(default=0.5, ge=0, le=1)
    chunks: list[str] = Field(min_length=1)


@committer("memory.store", effect=INTERNAL)
def commit_memory_store(payload: MemoryStorePayload, action: Action, task: Task) -> dict[str, Any]:
    record = source_get(label=payload.source, pk=payload.id)
    if record is None:
        return {"skipped": f"{payload.source} #{payload.id} was deleted before it was remembered"}
    # Whether the text is from outside is read from the record itself, not taken from the payload.
    trust = capture_of(record)
    stored = memory_services.memory_store_chunks(
        chunks=payload.chunks,
        kind=payload.kind,
        tier=payload.tier,
        client=row_or_none(Client, payload.client),
        project=row_or_none(Project, payload.project),
        source=record,
        source_task=task,
        importance=payload.importance,
        untrusted=trust.untrusted,
        origin=trust.origin,
    )
    return stored.as_dict() | {"untrusted": trust.untrusted}


class MemoryCompressPayload(BaseModel):
    items: list[int] = Field(min_length=1)
    summary: str = Field(min_length=1)


@committer("memory.compress", effect=INTERNAL)
def commit_memory_compress(payload: MemoryCompressPayload, action: Action, task: Task) -> dict[str, Any]:
    summary, superseded = memory_services.memory_compress(
        item_ids=payload.items, summary=payload.summary, source_task=task
    )
    return {"summary": summary.pk if summary else None, "superseded": superseded}


class MemorySweepPayload(BaseModel):
    now: str
    retention: dict[str, int] = {}


def _sweep_now(payload: MemorySweepPayload) -> dt.datetime:
    now = parse_datetime(payload.now)
    if now is None:
        raise ValidationError({"now": f"not a timestamp: {payload.now!r}"})
    return now


@committer("memory.expire", effect=INTERNAL)
def commit_memory_expire(payload: MemorySweepPayload, action: Action, task: Task) -> dict[str, Any]:
    return {"deleted": memory_services.memory_expire(now=_sweep_now(payload))}


@committer("memory.retain", effect=INTERNAL)
def commit_memory_retain(payload: MemorySweepPayload, action: Action, task: Task) -> dict[str, Any]:
    rules = memory_services.retention_rules(
        ",".join(f"{key}={days}" for key, days in payload.retention.items())
    )
    return {"deleted": memory_services.memory_retain(now=_sweep_now(payload), rules=rules)}
