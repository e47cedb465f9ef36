"""Rebuild memory embeddings after the embedding provider, model or dimension changed.

Items embedded by another model than the configured one (or not at all) are embedded again, in
batches, with a progress bar. When AIOS_EMBEDDING_DIM differs from the column's dimension, the column
is changed first (its old vectors cannot be kept) and the HNSW index is rebuilt at the end.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import Q
from tqdm import tqdm

from core.memory import embeddings
from core.memory.search import vector_literal
from core.models import MemoryItem

HNSW_INDEX = "memory_embedding_hnsw"


def column_dimensions() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'core_memoryitem'::regclass "
            "AND attname = 'embedding'"
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] > 0 else None


def _hnsw_index():
    return next(index for index in MemoryItem._meta.indexes if index.name == HNSW_INDEX)


class Command(BaseCommand):
    help = "Embed memory items again with the configured provider (after a provider or dimension change)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Re-embed every item, not only stale ones.")
        parser.add_argument("--batch", type=int, default=256, help="Items per batch (default 256).")

    def handle(self, *args, all: bool = False, batch: int = 256, **options):  # noqa: A002
        provider = embeddings.embedding_provider()
        wanted = settings.AIOS_EMBEDDING_DIM
        current = column_dimensions()
        resized = current != wanted
        if resized:
            self.stdout.write(f"Changing the embedding column from {current} to {wanted} dimensions…")
            with transaction.atomic(), connection.schema_editor() as editor:
                # Deferred constraint checks of rows written earlier in this transaction (e.g. a test's)
                # would otherwise block ALTER TABLE.
                editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                editor.execute(f'DROP INDEX IF EXISTS "{HNSW_INDEX}"')
                editor.execute(
                    "ALTER TABLE core_memoryitem ALTER COLUMN embedding "
                    f"TYPE vector({int(wanted)}) USING NULL"
                )
                editor.execute("UPDATE core_memoryitem SET embedding_model = ''")
        stale = (
            MemoryItem.objects.all()
            if all
            else MemoryItem.objects.filter(Q(embedding__isnull=True) | ~Q(embedding_model=provider.name))
        )
        ids = list(stale.order_by("pk").values_list("pk", flat=True))
        done = 0
        with tqdm(
            total=len(ids), unit="item", desc=f"Embedding with {provider.name}", disable=not ids
        ) as bar:
            for start in range(0, len(ids), batch):
                items = list(MemoryItem.objects.filter(pk__in=ids[start : start + batch]).only("pk", "text"))
                vectors = provider.embed([item.text for item in items])
                # Plain UPDATEs: bulk_update would cast to the model's vector(N), which is the old
                # dimension until the process restarts with the new setting.
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.executemany(
                        "UPDATE core_memoryitem SET embedding = %s::vector, embedding_model = %s "
                        "WHERE id = %s",
                        [
                            (vector_literal(vector), provider.name, item.pk)
                            for item, vector in zip(items, vectors, strict=True)
                        ],
                    )
                done += len(items)
                bar.update(len(items))
        if resized:
            self.stdout.write("Rebuilding the HNSW index…")
            with connection.schema_editor() as editor:
                editor.add_index(MemoryItem, _hnsw_index())
        self.stdout.write(self.style.SUCCESS(f"Re-embedded {done} memory item(s) with {provider.name}."))
