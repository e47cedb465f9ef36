"""Memory writes and recall: add (dedupe, near-duplicates), recall (hybrid, re-ranked, recorded),
compression, expiry and retention."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q

from core import clock, ports
from core.memory import embeddings, search
from core.memory.text import text_hash
from core.models import Client, MemoryItem, MemoryRecall, Project

Tier = MemoryItem.Tier
CREATED, DUPLICATE, NEAR_DUPLICATE = "created", "duplicate", "near_duplicate"
_TIER_RANK = {Tier.SESSION: 0, Tier.WORKING: 1, Tier.CANONICAL: 2}


def _subject(client: Client | None, project: Project | None) -> tuple[Client | None, Project | None]:
    if project is not None:
        if client is not None and project.client_id != client.pk:
            raise ValidationError({"project": "The project belongs to another client."})
        client = project.client
    return client, project


def _source_ref(source: Model | None) -> dict[str, Any]:
    if source is None:
        return {}
    return {"source_type": ContentType.objects.get_for_model(source), "source_id": source.pk}


def _expiry(tier: str, expires_at: datetime | None) -> datetime | None:
    if tier == Tier.CANONICAL:
        return None
    if tier == Tier.SESSION and expires_at is None:
        return clock.now() + timedelta(hours=settings.AIOS_MEMORY_SESSION_TTL_HOURS)
    return expires_at


@transaction.atomic
def memory_item_add(
    *,
    text: str,
    kind: str,
    tier: str = Tier.WORKING,
    client: Client | None = None,
    project: Project | None = None,
    source: Model | None = None,
    chunk: int = 0,
    source_task: Any = None,
    importance: float = 0.5,
    embedding: Sequence[float] | np.ndarray | None = None,
    embedding_model: str | None = None,
    expires_at: datetime | None = None,
    created_at: datetime | None = None,
    untrusted: bool = False,
    origin: str = "",
) -> tuple[MemoryItem, str]:
    """Remember one chunk; returns (item, "created" | "duplicate" | "near_duplicate").

    - The same normalised text for the same subject is stored once: a repeat adds a mention (and
      where else it was said) to the existing item, and raises its tier if the repeat ranks higher.
    - A text at least AIOS_MEMORY_NEAR_DUPLICATE similar to a live item of the same subject is stored
      for provenance but superseded by that item, so recall shows it once.
    """
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "A memory needs some text."})
    if kind not in MemoryItem.Kind.values:
        raise ValidationError({"kind": f"Unknown memory kind {kind!r}."})
    if tier not in Tier.values:
        raise ValidationError({"tier": f"Tier is session, working or canonical, not {tier!r}."})
    if not 0 <= importance <= 1:
        raise ValidationError({"importance": "Importance is between 0 and 1."})
    client, project = _subject(client, project)
    digest = text_hash(text)
    source_ref = _source_ref(source)
    existing = _existing(client, project, digest)
    if existing is not None:
        return _mention(
            existing, tier=tier, source_ref=source_ref, importance=importance, untrusted=untrusted
        ), DUPLICATE
    if embedding is None:
        provider = embeddings.embedding_provider()
        embedding, embedding_model = provider.embed([text])[0], provider.name
    embedding_model = embedding_model or embeddings.embedding_provider().name
    near = search.memory_nearest(
        vector=embedding,
        client_id=client.pk if client else None,
        project_id=project.pk if project else None,
        embedding_model=embedding_model,
    )
    twin_id = None
    if near and near[0][1] >= settings.AIOS_MEMORY_NEAR_DUPLICATE and same_facts(text, near[0][2]):
        twin_id = near[0][0]
    item = MemoryItem(
        tier=tier,
        kind=kind,
        text=text,
        content_hash=digest,
        embedding=np.asarray(embedding, dtype=np.float32),
        embedding_model=embedding_model,
        client=client,
        project=project,
        chunk=chunk,
        source_task=source_task,
        importance=importance,
        expires_at=_expiry(tier, expires_at),
        superseded_by_id=twin_id,
        created_at=created_at or clock.now(),
        untrusted=untrusted,
        origin=(origin or "")[:300],
        **source_ref,
    )
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        # The same text was added concurrently for the same subject: it is a duplicate after all.
        existing = _existing(client, project, digest)
        if existing is None:
            raise
        return _mention(
            existing, tier=tier, source_ref=source_ref, importance=importance, untrusted=untrusted
        ), DUPLICATE
    if twin_id is not None:
        MemoryItem.objects.filter(pk=twin_id).update(mentions=F("mentions") + 1)
        return item, NEAR_DUPLICATE
    return item, CREATED


_NUMBER = re.compile(r"\d+")
_WORDS = re.compile(r"\w+")


def same_facts(a: str, b: str) -> bool:
    """Whether two texts that embed almost alike also say the same thing.

    Sentence embeddings barely see numbers: "Invoice NW-2026-0003 was paid" and "…0004 was paid" are
    0.98 similar. Texts are near-duplicates only with the same numbers and mostly the same words.
    """
    if sorted(_NUMBER.findall(a)) != sorted(_NUMBER.findall(b)):
        return False
    words_a, words_b = set(_WORDS.findall(a.casefold())), set(_WORDS.findall(b.casefold()))
    return len(words_a & words_b) >= 0.6 * len(words_a | words_b)


def _existing(client: Client | None, project: Project | None, digest: str) -> MemoryItem | None:
    return (
        MemoryItem.objects.select_for_update()
        .filter(client=client, project=project, content_hash=digest)
        .first()
    )


def _mention(
    item: MemoryItem, *, tier: str, source_ref: dict[str, Any], importance: float, untrusted: bool = False
) -> MemoryItem:
    item.mentions += 1
    fields = ["mentions"]
    if untrusted and not item.untrusted:
        # The same words also came from outside: an operator's copy does not make a mail's text trusted.
        item.untrusted = True
        fields.append("untrusted")
    ref = (
        {
            "type": source_ref["source_type"].model,
            "app": source_ref["source_type"].app_label,
            "id": source_ref["source_id"],
        }
        if source_ref
        else None
    )
    same_source = source_ref and (item.source_type_id, item.source_id) == (
        source_ref["source_type"].pk,
        source_ref["source_id"],
    )
    if ref and not same_source and ref not in item.also_from and len(item.also_from) < 50:
        item.also_from = [*item.also_from, ref]
        fields.append("also_from")
    if _TIER_RANK[tier] > _TIER_RANK[item.tier]:
        item.tier = tier
        item.expires_at = _expiry(tier, None)
        fields += ["tier", "expires_at"]
    if importance > item.importance:
        item.importance = importance
        fields.append("importance")
    item.save(update_fields=fields)
    return item


@dataclass
class StoreResult:
    items: list[int] = field(default_factory=list)
    created: int = 0
    duplicates: int = 0
    near_duplicates: int = 0
    removed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def memory_store_chunks(
    *,
    chunks: Sequence[str],
    kind: str,
    tier: str,
    client: Client | None,
    project: Project | None,
    source: Model | None,
    source_task: Any = None,
    importance: float = 0.5,
    untrusted: bool = False,
    origin: str = "",
) -> StoreResult:
    """Remember a source's chunks (embedded in one batch) and forget its chunks that are gone.

    Called again after the source changed, items whose text the source no longer has are deleted: the
    record's own history keeps what it said before; memory reflects what it says now.
    """
    result = StoreResult()
    texts = [chunk.strip() for chunk in chunks if chunk.strip()]
    provider = embeddings.embedding_provider()
    vectors = provider.embed(texts) if texts else []
    for index, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
        item, outcome = memory_item_add(
            text=text,
            kind=kind,
            tier=tier,
            client=client,
            project=project,
            source=source,
            chunk=index,
            source_task=source_task,
            importance=importance,
            embedding=vector,
            embedding_model=provider.name,
            untrusted=untrusted,
            origin=origin,
        )
        result.items.append(item.pk)
        result.created += outcome == CREATED
        result.duplicates += outcome == DUPLICATE
        result.near_duplicates += outcome == NEAR_DUPLICATE
    if source is not None:
        stale = MemoryItem.objects.filter(**_source_ref(source), kind=kind).exclude(pk__in=result.items)
        result.removed = stale.count()
        stale.delete()
    return result


# --- Recall ---------------------------------------------------------------------------------

PRECISION, RECALL = "precision", "recall"


@dataclass
class Recalled:
    item: MemoryItem
    score: float
    similarity: float | None
    vector_rank: int | None
    keyword_rank: int | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "item": self.item.pk,
            "score": round(self.score, 6),
            "similarity": None if self.similarity is None else round(self.similarity, 4),
            "vector_rank": self.vector_rank,
            "keyword_rank": self.keyword_rank,
            "tier": self.item.tier,
            "kind": self.item.kind,
            "text": self.item.text[:300],
        }


def _rerank_weight(item: MemoryItem, *, now: datetime) -> float:
    """Fresh, often-used and important items rank higher, within bounds: relevance still leads.

    recency: 1.0 for an item used or created today, 0.5 after one half-life, never below 0.5 of that;
    usage: +5 % per doubling of recalls; importance: ±15 % around the default 0.5; canonical +10 %.
    """
    last = max(filter(None, [item.created_at, item.last_recalled_at]))
    age_days = max((now - last).total_seconds() / 86400, 0)
    recency = 0.5 + 0.5 * math.pow(0.5, age_days / settings.AIOS_MEMORY_HALF_LIFE_DAYS)
    usage = 1 + 0.05 * math.log2(1 + item.recall_count)
    importance = 0.85 + 0.3 * item.importance
    canonical = 1.1 if item.tier == Tier.CANONICAL else 1.0
    return recency * usage * importance * canonical


def memory_recall(
    *,
    query: str,
    client: Client | None = None,
    project: Project | None = None,
    tiers: Iterable[str] = (Tier.SESSION, Tier.WORKING, Tier.CANONICAL),
    mode: str = RECALL,
    k: int = 8,
    task: Any = None,
    step: str = "",
) -> list[Recalled]:
    """The k memories that best answer `query`, scoped to a client and/or project.

    Hybrid: vector similarity and keyword match fused by reciprocal rank, then re-ranked by recency,
    use and importance. `precision` (for actions: invoices, commands) weighs exact words as much as
    meaning and drops weak matches; `recall` (for drafting) looks wider and keeps more.
    Inside a task (`task` given) the recall is recorded with its items and scores, and the items'
    use counters move; searches by the operator change nothing.
    """
    started = time.perf_counter()
    query = (query or "").strip()
    if not query:
        raise ValidationError({"query": "Say what to look for."})
    if mode not in (PRECISION, RECALL):
        raise ValidationError({"mode": "Mode is precision or recall."})
    if not 1 <= k <= 100:
        raise ValidationError({"k": "k is between 1 and 100."})
    tiers = [tier for tier in tiers]
    unknown = set(tiers) - set(Tier.values)
    if unknown or not tiers:
        raise ValidationError({"tiers": f"Tiers are session, working, canonical; got {sorted(unknown)}."})
    client, project = _subject(client, project)
    provider = embeddings.embedding_provider()
    vector = embeddings.embed_query(query)
    hits = search.memory_search(
        vector=vector,
        query=query,
        client_id=client.pk if client else None,
        project_id=project.pk if project else None,
        tiers=tiers,
        limit=max(4 * k, 24) if mode == PRECISION else max(6 * k, 48),
        keyword_weight=1.0 if mode == PRECISION else 0.6,
        embedding_model=provider.name,
    )
    items = MemoryItem.objects.in_bulk([hit.id for hit in hits])
    now = clock.now()
    # A candidate must mean something close to the query; a keyword match lowers the bar (the words
    # are there) but does not remove it, so a shared common word alone brings nothing in.
    floor, keyword_floor = (0.15, 0.05) if mode == PRECISION else (0.05, 0.0)
    ranked = [
        Recalled(
            item=items[hit.id],
            score=hit.fused * _rerank_weight(items[hit.id], now=now),
            similarity=hit.similarity,
            vector_rank=hit.vector_rank,
            keyword_rank=hit.keyword_rank,
        )
        for hit in hits
        if hit.id in items
        and hit.similarity is not None
        and hit.similarity >= (keyword_floor if hit.keyword_rank is not None else floor)
    ]
    ranked.sort(key=lambda r: (-r.score, r.item.pk))
    if mode == PRECISION and ranked:
        # Precision keeps only what is nearly as good as the best: an action acts on few, sure items.
        ranked = [r for r in ranked if r.score >= 0.5 * ranked[0].score]
    ranked = ranked[:k]
    if task is not None:
        recall = MemoryRecall(
            task=task,
            step=step,
            query=query,
            mode=mode,
            tiers=tiers,
            client=client,
            project=project,
            k=k,
            results=[r.as_dict() for r in ranked],
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        _recall_record(recall=recall, items=[r.item.pk for r in ranked])
    return ranked


def _recall_record(*, recall: MemoryRecall, items: list[int]) -> None:
    """Keep a task's recall with the items it returned, move their use counters, and put it on the task's
    timeline (through the ledger's port), in one transaction."""
    with transaction.atomic():
        recall.save(force_insert=True)
        recall.items.set(items)
        MemoryItem.objects.filter(pk__in=items).update(
            recall_count=F("recall_count") + 1, last_recalled_at=clock.now()
        )
        ports.memory_recalled(recall=recall, items=items)


# --- Decay, compression, retention ----------------------------------------------------------


def memory_expiring(*, now: datetime | None = None):
    """Items whose time is up: session items past their TTL, and anything given an expiry."""
    now = now or clock.now()
    return MemoryItem.objects.filter(expires_at__lte=now).exclude(tier=Tier.CANONICAL)


def _deleted_items(queryset) -> int:
    # delete() also counts cascaded rows (recall links); report memory items only.
    _, per_model = queryset.delete()
    return per_model.get(MemoryItem._meta.label, 0)


def memory_expire(*, now: datetime | None = None) -> int:
    return _deleted_items(memory_expiring(now=now))


Rules = dict[tuple[str, str | None], int]


def retention_rules(value: str) -> Rules:
    """Parse "session=7,working=730,working.message=365" into {(tier, kind or None): days}.

    The rules in force are the retention policies (ledger.policy); this form carries them in an action."""
    rules: Rules = {}
    text = value
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, days = part.partition("=")
        tier, _, kind = key.strip().partition(".")
        if tier == Tier.CANONICAL:
            raise ValidationError("Canonical memory is never deleted by retention.")
        if tier not in Tier.values or (kind and kind not in MemoryItem.Kind.values):
            raise ValidationError(f"Unknown tier or kind in retention rule {part!r}.")
        if not days.strip().isdigit() or int(days) < 1:
            raise ValidationError(f"Retention {part!r}: give a whole number of days, at least 1.")
        rules[(tier, kind or None)] = int(days)
    return rules


def memory_retention_due(*, rules: Rules, now: datetime | None = None):
    """Items older than their retention: a tier.kind rule wins over its tier's rule. Never canonical."""
    now = now or clock.now()
    due = Q(pk__in=[])
    for (tier, kind), days in rules.items():
        if tier == Tier.CANONICAL:
            continue
        rule = Q(tier=tier, created_at__lt=now - timedelta(days=days))
        if kind:
            rule &= Q(kind=kind)
        else:
            rule &= ~Q(kind__in=[k for (t, k) in rules if t == tier and k])
        due |= rule
    return MemoryItem.objects.filter(due).exclude(tier=Tier.CANONICAL)


def memory_retain(*, rules: Rules, now: datetime | None = None) -> int:
    return _deleted_items(memory_retention_due(now=now, rules=rules))


def memory_compression_groups(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Subjects with enough old working items to compress: [{client, project, items: [ids]}]."""
    now = now or clock.now()
    old = (
        MemoryItem.objects.filter(
            tier=Tier.WORKING,
            superseded_by__isnull=True,
            created_at__lt=now - timedelta(days=settings.AIOS_MEMORY_COMPRESS_AFTER_DAYS),
        )
        .exclude(kind=MemoryItem.Kind.SUMMARY)
        .order_by("client_id", "project_id", "created_at", "pk")
        .values_list("client_id", "project_id", "pk")
    )
    groups: dict[tuple[int | None, int | None], list[int]] = {}
    for client_id, project_id, pk in old:
        groups.setdefault((client_id, project_id), []).append(pk)
    return [
        {"client": client_id, "project": project_id, "items": ids}
        for (client_id, project_id), ids in groups.items()
        if len(ids) >= settings.AIOS_MEMORY_COMPRESS_MIN_ITEMS
    ]


def memory_compression_batches(*, now: datetime | None = None, size: int) -> list[dict[str, Any]]:
    """The groups due for compression cut into batches of at most `size` items (a batch of one is left out),
    each with its items' text: [{client, project, items: [{id, text, created_at, untrusted, origin}]}],
    oldest first."""
    batches = []
    for group in memory_compression_groups(now=now):
        ids = group["items"]
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            if len(batch) < 2:
                continue
            items = [
                {
                    "id": pk,
                    "text": text,
                    "created_at": created.isoformat(),
                    "untrusted": untrusted,
                    "origin": origin,
                }
                for pk, text, created, untrusted, origin in MemoryItem.objects.filter(pk__in=batch)
                .order_by("created_at", "pk")
                .values_list("pk", "text", "created_at", "untrusted", "origin")
            ]
            batches.append({"client": group["client"], "project": group["project"], "items": items})
    return batches


def memory_compress(
    *, item_ids: Sequence[int], summary: str, source_task: Any = None
) -> tuple[MemoryItem | None, int]:
    """Replace items of one subject by a summary item; returns (summary item, originals superseded).

    Items already superseded, or gone, since the group was chosen are left out; with none left,
    nothing is written.
    """
    with transaction.atomic():
        originals = list(
            MemoryItem.objects.select_for_update()
            .filter(pk__in=list(item_ids), superseded_by__isnull=True, tier=Tier.WORKING)
            .order_by("pk")
        )
        if not originals:
            return None, 0
        subjects = {(item.client_id, item.project_id) for item in originals}
        if len(subjects) != 1:
            raise ValidationError("A summary covers the items of one client or project.")
        client_id, project_id = subjects.pop()
        item, _ = memory_item_add(
            text=summary,
            kind=MemoryItem.Kind.SUMMARY,
            tier=Tier.WORKING,
            client=Client.objects.get(pk=client_id) if client_id else None,
            project=Project.objects.get(pk=project_id) if project_id else None,
            source_task=source_task,
            importance=max(original.importance for original in originals),
            # A summary says what its originals said: untrusted if any of them was.
            untrusted=any(original.untrusted for original in originals),
            origin=f"summary of {len(originals)} memories"
            + (" (some from outside the business)" if any(o.untrusted for o in originals) else ""),
        )
        if item.pk in {original.pk for original in originals}:
            return item, 0
        if item.superseded_by_id:
            # The summary is a near-duplicate of a live item: that item is what stays visible.
            item.superseded_by_id = None
            item.save(update_fields=["superseded_by"])
        count = MemoryItem.objects.filter(pk__in=[o.pk for o in originals]).update(superseded_by=item)
        MemoryItem.objects.filter(superseded_by__in=[o.pk for o in originals]).update(superseded_by=item)
        return item, count


def memory_forget(*, items) -> int:
    """The operator forgets memories. Canonical memory (pinned notes) is changed through its note."""
    items = MemoryItem.objects.filter(pk__in=[item.pk for item in items])
    if items.filter(tier=Tier.CANONICAL).exists():
        raise ValidationError("Canonical memories come from pinned notes: unpin or delete the note instead.")
    return _deleted_items(items)
