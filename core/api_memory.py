"""Memory over the API: search it (as agents recall, without touching use counters) and add notes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from core import services
from core.memory import services as memory_services
from core.models import Client, MemoryItem, Note, Project
from core.schemas import api_enum

router = Router(tags=["memory"])
MemoryTier = api_enum(MemoryItem.Tier, name="MemoryTier", module=__name__)


class MemorySearchQuery(Schema):
    query: str = Field(..., min_length=1, max_length=2000, description="What to look for, in any words.")
    client_id: int | None = Field(None, description="Only this client's memories.")
    project_id: int | None = Field(None, description="Only this project's memories.")
    tiers: list[MemoryTier] = Field(
        default_factory=lambda: list(MemoryTier), description="Tiers to search (repeat the parameter)."
    )
    mode: Literal["recall", "precision"] = "recall"
    k: int = Field(8, ge=1, le=50)


class MemoryHitOut(Schema):
    id: int
    text: str
    tier: str
    kind: str
    client_id: int | None
    project_id: int | None
    created_at: dt.datetime
    score: float
    similarity: float | None
    vector_rank: int | None
    keyword_rank: int | None


class NoteIn(Schema):
    text: str = Field(..., min_length=1, max_length=20000)
    client_id: int | None = None
    project_id: int | None = None
    pinned: bool = Field(False, description="Pinned notes are canonical facts: kept for good.")


class NoteOut(Schema):
    id: int
    text: str
    client_id: int | None
    project_id: int | None
    pinned: bool
    created_at: dt.datetime


def _record(model, pk: int | None, field: str):
    if pk is None:
        return None
    record = model.objects.filter(pk=pk).first()
    if record is None:
        raise ValidationError({field: f"There is no {model._meta.verbose_name} with id {pk}."})
    return record


@router.get("/memory/search", response=list[MemoryHitOut])
def memory_search(request: HttpRequest, filters: Query[MemorySearchQuery]):
    found = memory_services.memory_recall(
        query=filters.query,
        client=_record(Client, filters.client_id, "client_id"),
        project=_record(Project, filters.project_id, "project_id"),
        tiers=[str(tier) for tier in filters.tiers],
        mode=filters.mode,
        k=filters.k,
    )
    return [
        {
            "id": hit.item.pk,
            "text": hit.item.text,
            "tier": hit.item.tier,
            "kind": hit.item.kind,
            "client_id": hit.item.client_id,
            "project_id": hit.item.project_id,
            "created_at": hit.item.created_at,
            "score": hit.score,
            "similarity": hit.similarity,
            "vector_rank": hit.vector_rank,
            "keyword_rank": hit.keyword_rank,
        }
        for hit in found
    ]


@router.post("/notes", response={201: NoteOut})
def note_create(request: HttpRequest, payload: NoteIn):
    note = services.note_create(
        by=request.user,
        text=payload.text,
        client=_record(Client, payload.client_id, "client_id"),
        project=_record(Project, payload.project_id, "project_id"),
        pinned=payload.pinned,
    )
    return Status(201, note)


@router.get("/notes/{note_id}", response=NoteOut)
def note_get(request: HttpRequest, note_id: int):
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Note, pk=note_id)
