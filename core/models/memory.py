"""Memory: remembered chunks of text and the provenance of each recall."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField

from core.models.clients import Client, Project
from core.states import MemoryKind, MemoryTier


class MemoryItem(models.Model):
    """One remembered chunk of text with its embedding, subject and provenance (DESIGN §5).

    Items are derived from canonical records (and the operator's notes) by capture tasks; they are not
    themselves canonical business records, so they carry no history table: the ledger task that wrote
    an item (`source_task`) and its source record are the audit trail.
    """

    Tier = MemoryTier
    Kind = MemoryKind

    id = models.BigAutoField(primary_key=True)
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.WORKING)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField()
    # sha256 of the normalised text: the same text for the same subject is stored once.
    content_hash = models.CharField(max_length=64)
    embedding = VectorField(dimensions=settings.AIOS_EMBEDDING_DIM, null=True, blank=True)
    # Which provider and model made `embedding`; recall only compares vectors of the current model.
    embedding_model = models.CharField(max_length=200, blank=True)
    search = models.GeneratedField(
        expression=SearchVector("text", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="memory_items"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="memory_items"
    )
    source_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    chunk = models.PositiveIntegerField(default=0, help_text="Position of this chunk in its source.")
    source_task = models.ForeignKey(
        "ledger.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="memory_items"
    )
    # Text from outside the business (a mail's body, an attachment, a note or decision made from one) is
    # kept as untrusted: agents quote it to models as data inside delimited blocks, never as instructions.
    # Once any source of the same text is untrusted, the item stays untrusted.
    untrusted = models.BooleanField(default=False, db_index=True)
    origin = models.CharField(
        max_length=300, blank=True, help_text="Where the text came from, e.g. “mail from x@example.com”."
    )
    # Other records that said the same thing (dedupe keeps one item and remembers where else it came from).
    also_from = models.JSONField(default=list, blank=True)
    mentions = models.PositiveIntegerField(default=1)
    importance = models.FloatField(default=0.5)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_recalled_at = models.DateTimeField(null=True, blank=True)
    recall_count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A compressed original points at its summary; a near-duplicate at the item it repeats. Superseded
    # items are never recalled themselves, only through the item that supersedes them.
    superseded_by = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="supersedes"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "project", "content_hash"],
                nulls_distinct=False,
                name="memory_once_per_subject",
            ),
            models.CheckConstraint(
                condition=Q(importance__gte=0, importance__lte=1), name="memory_importance_0_1"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="memory_text_not_blank"),
            models.CheckConstraint(
                condition=~Q(tier="canonical") | Q(expires_at__isnull=True),
                name="memory_canonical_never_expires",
            ),
        ]
        indexes = [
            # Only live items are searched by vector; superseded ones stay out of the graph.
            HnswIndex(
                name="memory_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
                condition=Q(superseded_by__isnull=True),
            ),
            GinIndex(fields=["search"], name="memory_search_gin"),
            models.Index(fields=["source_type", "source_id"], name="memory_source_idx"),
            models.Index(fields=["tier", "kind", "created_at"], name="memory_tier_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class MemoryRecall(models.Model):
    """Provenance: one recall made inside a task, with the items it returned and their scores."""

    task = models.ForeignKey("ledger.Task", on_delete=models.CASCADE, related_name="memory_recalls")
    step = models.CharField(max_length=100, blank=True)
    query = models.TextField()
    mode = models.CharField(max_length=10)
    tiers = models.JSONField(default=list)
    client = models.ForeignKey(Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    k = models.PositiveSmallIntegerField()
    # [{"item": id, "score": …, "vector_rank": …, "keyword_rank": …, "similarity": …, "text": excerpt}]
    results = models.JSONField(default=list)
    items = models.ManyToManyField(MemoryItem, blank=True, related_name="recalls")
    duration_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"recall {self.query[:60]!r}"
