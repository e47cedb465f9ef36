"""The synthetic memory table of bench_memory: clustered 384-d vectors and pseudo-word texts with a fixed
seed, loaded by binary COPY with the search indexes dropped, and the index builds timed."""

from __future__ import annotations

import math
import re
import struct
import threading
import time
from datetime import UTC, datetime

import numpy as np
from django.db import connection, connections

from core.memory.text import text_hash
from core.models import MemoryItem

SEED = 20261122
DIM = 384
LATENT_DIM = 64
CENTRES = 2000
SPREAD = 0.6  # item noise around its centre, relative to the centre (latent space)
FULL_NOISE = 0.25  # 384-d isotropic noise, relative to the latent part
CLIENTS = 100
POOL_WORDS = 20000  # cluster vocabularies are drawn from this pool (a word is in ~2-3 clusters)
CLUSTER_WORDS = 24
COMMON_WORDS = 300  # shared by all clusters, Zipf-distributed
CLUSTER_WORD_SHARE = 0.6
MODEL = "bench:synthetic-384"
CHUNK = 20000  # rows generated (and sent) per batch

SMALL = 1000
LIMIT = 10
QUERIES = 200
WARM_UP = 20
HYBRID_EXACT = 50
ADDS = 200
ADD_WARM_UP = 20

HYBRID_P50_MS_100K = 10
VECTOR_P50_MS_1M = 20
RECALL_TARGET = 0.95
ADD_RATIO_TARGET = 2.0

TABLE = "core_memoryitem"
# HNSW first: the GIN build after it reads the heap again, so both are warm when the searches start.
REBUILT_INDEXES = ("memory_embedding_hnsw", "memory_search_gin")
COPY_COLUMNS = (
    "id, client_id, tier, kind, text, content_hash, embedding, embedding_model, chunk, also_from, "
    "mentions, importance, created_at, recall_count, untrusted, origin"
)
PGCOPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
PGCOPY_TRAILER = struct.pack(">h", -1)
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
VECTOR_LITERAL = re.compile(r"'\[[-0-9.e,]+\]'")


def say(text: str = "") -> None:
    print(text, flush=True)


# --- Synthetic data -----------------------------------------------------------------------------


def _pseudo_words(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct pronounceable words: 2-3 consonant-vowel syllables and a closing consonant. Without
    'e', 'y', 's' or an 'n' before the last letter no English suffix rule applies, so stemming keeps
    them whole."""
    consonants, vowels, finals = list("bdfgklmnprtvz"), list("aiou"), list("bdkmpt")
    words: dict[str, None] = {}
    while len(words) < count:
        syllables = int(rng.integers(2, 4))
        word = "".join(str(rng.choice(consonants)) + str(rng.choice(vowels)) for _ in range(syllables))
        words[word + str(rng.choice(finals))] = None
    return list(words)


class Synthetic:
    def __init__(self, capacity: int) -> None:
        rng = np.random.default_rng([SEED, 0])
        self.centres = rng.standard_normal((CENTRES, LATENT_DIM)).astype(np.float32)
        self.projection = (rng.standard_normal((LATENT_DIM, DIM)) / math.sqrt(DIM)).astype(np.float32)
        self.full_noise = FULL_NOISE * math.sqrt(LATENT_DIM * (1 + SPREAD**2) / DIM)
        words = _pseudo_words(rng, POOL_WORDS + COMMON_WORDS)
        self.words = np.array(words, dtype=object)
        self.cluster_words = np.stack(
            [rng.choice(POOL_WORDS, CLUSTER_WORDS, replace=False) for _ in range(CENTRES)]
        )
        zipf = 1.0 / np.arange(1, COMMON_WORDS + 1)
        self.common_p = zipf / zipf.sum()
        self.vectors = np.empty((capacity, DIM), dtype=np.float32)
        self.clusters = np.empty(capacity, dtype=np.int32)
        self.clients = np.empty(capacity, dtype=np.int32)  # 0..CLIENTS-1

    def unit_vectors(self, rng: np.random.Generator, clusters: np.ndarray) -> np.ndarray:
        latent = self.centres[clusters] + SPREAD * rng.standard_normal((len(clusters), LATENT_DIM))
        vectors = latent.astype(np.float32) @ self.projection
        vectors += (self.full_noise * rng.standard_normal(vectors.shape)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors

    def texts(self, rng: np.random.Generator, clusters: np.ndarray) -> list[str]:
        count, width = len(clusters), 20
        lengths = rng.integers(12, 21, count)
        own = self.cluster_words[clusters[:, None], rng.integers(0, CLUSTER_WORDS, (count, width))]
        common = POOL_WORDS + rng.choice(COMMON_WORDS, (count, width), p=self.common_p)
        picks = np.where(rng.random((count, width)) < CLUSTER_WORD_SHARE, own, common)
        words = self.words[picks]
        return [" ".join(row[:length]) for row, length in zip(words, lengths, strict=True)]

    def batch(self, index: int) -> list[str]:
        """Rows [index*CHUNK, (index+1)*CHUNK): vectors, clusters and clients are kept for the exact
        answers; the texts are returned for loading. The same index always gives the same rows."""
        rng = np.random.default_rng([SEED, 1, index])
        rows = slice(index * CHUNK, (index + 1) * CHUNK)
        clusters = rng.integers(0, CENTRES, CHUNK)
        self.clusters[rows] = clusters
        self.clients[rows] = rng.integers(0, CLIENTS, CHUNK)
        self.vectors[rows] = self.unit_vectors(rng, clusters)
        return self.texts(rng, clusters)

    def query_words(self, rng: np.random.Generator, cluster: int) -> str:
        count = int(rng.integers(3, 7))
        return " ".join(self.words[rng.choice(self.cluster_words[cluster], count, replace=False)])


# --- Loading ------------------------------------------------------------------------------------


def _encode(synthetic: Synthetic, texts: list[str], start: int, client_ids: np.ndarray) -> bytes:
    """Rows [start, start+len(texts)) in PostgreSQL's binary COPY format (no header and trailer)."""
    count = len(texts)
    head = np.zeros(
        count, dtype=[("fields", ">i2"), ("l1", ">i4"), ("id", ">i8"), ("l2", ">i4"), ("client", ">i8")]
    )
    head["fields"], head["l1"], head["l2"] = 16, 8, 8
    head["id"] = np.arange(start + 1, start + count + 1)
    head["client"] = client_ids[synthetic.clients[start : start + count]]
    tail = np.zeros(
        count,
        dtype=[
            ("l1", ">i4"),
            ("hash", "S64"),
            ("l2", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("vector", ">f4", (DIM,)),
        ],
    )
    tail["l1"], tail["l2"], tail["dim"] = 64, 4 + 4 * DIM, DIM
    tail["hash"] = [text_hash(text).encode() for text in texts]
    tail["vector"] = synthetic.vectors[start : start + count]
    created = (datetime.now(UTC) - PG_EPOCH) // (datetime.resolution)
    constant = b"".join(
        [
            struct.pack(">i", len(MODEL)) + MODEL.encode(),
            struct.pack(">ii", 4, 0),  # chunk
            struct.pack(">ib", 3, 1) + b"[]",  # also_from (jsonb version 1)
            struct.pack(">ii", 4, 1),  # mentions
            struct.pack(">id", 8, 0.5),  # importance
            struct.pack(">iq", 8, created),  # created_at
            struct.pack(">ii", 4, 0),  # recall_count
            struct.pack(">ib", 1, 0),  # untrusted: the operator's own text
            struct.pack(">i", 0),  # origin: "" (no outside source)
        ]
    )
    kinds = [
        struct.pack(">i", 7) + b"working" + struct.pack(">i", len(kind)) + kind.encode()
        for kind in MemoryItem.Kind.values
    ]
    kind_of = (np.arange(start, start + count) % len(kinds)).tolist()
    head_bytes, tail_bytes = memoryview(head.tobytes()), memoryview(tail.tobytes())
    head_size, tail_size = head.dtype.itemsize, tail.dtype.itemsize
    parts: list = []
    for row, text in enumerate(texts):
        body = text.encode()
        parts += [
            head_bytes[row * head_size : (row + 1) * head_size],
            kinds[kind_of[row]],
            struct.pack(">i", len(body)),
            body,
            tail_bytes[row * tail_size : (row + 1) * tail_size],
            constant,
        ]
    return b"".join(parts)


def bulk_load(synthetic: Synthetic, first: int, upto: int, client_ids: np.ndarray) -> None:
    """Generate rows [first, upto) in memory, then COPY them in (ids first+1 .. upto); only the COPY is
    timed for the insert rate."""
    started = time.perf_counter()
    blocks = []
    for index in range(first // CHUNK, math.ceil(upto / CHUNK)):
        texts = synthetic.batch(index)
        start, stop = max(first, index * CHUNK), min(upto, (index + 1) * CHUNK)
        offset = start - index * CHUNK
        blocks.append(_encode(synthetic, texts[offset : offset + stop - start], start, client_ids))
    mib, seconds = sum(len(block) for block in blocks) / 2**20, time.perf_counter() - started
    say(f"  .. generated {upto - first:,} rows ({mib:,.0f} MiB) in {seconds:.1f} s")
    started = time.perf_counter()
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        copy_sql = f"COPY {TABLE} ({COPY_COLUMNS}) FROM STDIN WITH (FORMAT BINARY)"
        with cursor.copy(copy_sql) as copy:
            copy.write(PGCOPY_HEADER)
            for number, block in enumerate(blocks, 1):
                copy.write(block)
                if number % 10 == 0:
                    say(f"  .. sent {number * CHUNK:>9,} rows  {time.perf_counter() - started:6.1f} s")
            copy.write(PGCOPY_TRAILER)
        cursor.execute("RESET synchronous_commit")
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), {upto})")
    seconds = time.perf_counter() - started
    rows = upto - first
    present = index_definitions()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = %s", [TABLE])
        kept = cursor.fetchone()[0] - len(present)
    indexes = ", ".join(sorted(set(REBUILT_INDEXES) - set(present))) or "none"
    say(
        f"bulk load (binary COPY)   {rows:>9,} rows  {seconds:7.1f} s  {rows / seconds:9,.0f} rows/s  "
        f"(dropped: {indexes}; {kept} b-tree indexes kept)"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
    say(f"VACUUM ANALYZE            {time.perf_counter() - started:7.1f} s")


def index_definitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname = ANY(%s)",
            [TABLE, list(REBUILT_INDEXES)],
        )
        return dict(cursor.fetchall())


def drop_indexes() -> None:
    with connection.cursor() as cursor:
        for name in REBUILT_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")


def _watch_build(stop: threading.Event, name: str, started: float) -> None:
    """Every minute, what pg_stat_progress_create_index says about the build (shows the run is alive)."""
    try:
        while not stop.wait(60):
            with connections["default"].cursor() as cursor:
                cursor.execute(
                    "SELECT phase, tuples_done, tuples_total, blocks_done, blocks_total "
                    "FROM pg_stat_progress_create_index WHERE relid = %s::regclass",
                    [TABLE],
                )
                row = cursor.fetchone()
            if row:
                phase, tuples_done, tuples_total, blocks_done, blocks_total = row
                say(
                    f"  .. {name}: {time.perf_counter() - started:6.0f} s  {phase}  tuples "
                    f"{tuples_done:,}/{tuples_total:,}  blocks {blocks_done:,}/{blocks_total:,}"
                )
    finally:
        connections["default"].close()


def build_indexes(definitions: dict[str, str]) -> dict[str, float]:
    seconds = {}
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '8GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 1")
        for name in REBUILT_INDEXES:
            stop = threading.Event()
            started = time.perf_counter()
            watcher = threading.Thread(target=_watch_build, args=(stop, name, started), daemon=True)
            watcher.start()
            try:
                cursor.execute(definitions[name])
            finally:
                stop.set()
                watcher.join()
            seconds[name] = time.perf_counter() - started
            say(f"index build {name:<22} {seconds[name]:7.1f} s  ({_index_size(cursor, name)})")
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("RESET max_parallel_maintenance_workers")
        cursor.execute(f"ANALYZE {TABLE}")
    return seconds


def _index_size(cursor, name: str) -> str:
    cursor.execute("SELECT pg_size_pretty(pg_relation_size(%s::regclass))", [name])
    return cursor.fetchone()[0]


def restore_indexes(definitions: dict[str, str]) -> None:
    present = index_definitions()
    with connection.cursor() as cursor:
        for name, sql in definitions.items():
            if name not in present:
                cursor.execute(sql)


def truncate() -> None:
    with connection.cursor() as cursor:
        # core_memoryrecall_items points at the items; a bench database has nothing else to keep there.
        cursor.execute(f"TRUNCATE {TABLE} RESTART IDENTITY CASCADE")


# --- Searching ----------------------------------------------------------------------------------
