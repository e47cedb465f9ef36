"""Memory search at 100k and 1M items: bulk load, index builds, query latency and recall, add latency.

Synthetic data, fixed seed: 384-d unit vectors with cluster structure (2000 cluster centres in a 64-d
latent space, items = centre + gaussian noise there, mapped into 384 dimensions plus a little
full-dimensional noise, so neighbourhoods are graded like real text embeddings rather than uniformly
random), and texts of 12-20 pronounceable pseudo-words (they survive English stemming) from the item's
cluster vocabulary plus common words, so full-text matches have realistic selectivity. Items belong to
100 clients at random: one client is ~1% of the table.

Measured with the product code (`memory_search`, `memory_item_add`), limit 10, product settings:
- bulk load rate: binary COPY with the HNSW and GIN indexes dropped; then the index build times;
- p50/p95 latency of vector-only, hybrid (vector + 3-6 query words) and client-filtered searches;
- recall@10 of each against an exact answer computed in the same run: numpy dot products over the
  vectors for vector-only and filtered, and the same `memory_search` with index scans disabled for
  hybrid (its latency is printed as the exact-scan baseline);
- p50/p95 of `memory_item_add` (fresh texts, both indexes present) with 1k items versus 100k items.
Targets (printed, not asserted): hybrid p50 <= 10 ms at 100k; vector p50 <= 20 ms at 1M; recall@10 >=
0.95 for all three kinds; add latency at 100k <= 2x that at 1k.

AIOS_BENCH_MEMORY_SIZES (default "100000,1000000") picks the table sizes. Optional diagnostics:
AIOS_BENCH_MEMORY_EF="40,100,200,400" adds an hnsw.ef_search trade-off table per size, and
AIOS_BENCH_MEMORY_EXPLAIN=1 prints EXPLAIN (ANALYZE, BUFFERS) of one search of each kind.
"""

from __future__ import annotations

import math
import os
import re
import statistics
import time

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bench.memory_data import (
    ADD_RATIO_TARGET,
    ADD_WARM_UP,
    ADDS,
    CENTRES,
    CHUNK,
    CLIENTS,
    DIM,
    HYBRID_EXACT,
    HYBRID_P50_MS_100K,
    LATENT_DIM,
    LIMIT,
    MODEL,
    QUERIES,
    REBUILT_INDEXES,
    RECALL_TARGET,
    SEED,
    SMALL,
    SPREAD,
    TABLE,
    VECTOR_LITERAL,
    VECTOR_P50_MS_1M,
    WARM_UP,
    Synthetic,
    build_indexes,
    bulk_load,
    drop_indexes,
    index_definitions,
    restore_indexes,
    say,
    truncate,
)
from core import services
from core.memory.search import memory_nearest, memory_search
from core.memory.services import memory_item_add
from core.models import Client, MemoryItem


class Queries:
    def __init__(self, synthetic: Synthetic, size: int, client_ids: np.ndarray) -> None:
        rng = np.random.default_rng([SEED, 2, size])
        self.clusters = rng.integers(0, CENTRES, QUERIES)
        self.vectors = synthetic.unit_vectors(rng, self.clusters)
        self.words = [synthetic.query_words(rng, int(cluster)) for cluster in self.clusters]
        self.client_index = rng.integers(0, CLIENTS, QUERIES)
        self.client_ids = client_ids[self.client_index]
        warm_clusters = rng.integers(0, CENTRES, WARM_UP)
        self.warm_vectors = synthetic.unit_vectors(rng, warm_clusters)
        self.warm_words = [synthetic.query_words(rng, int(cluster)) for cluster in warm_clusters]
        self.warm_client_ids = client_ids[rng.integers(0, CLIENTS, WARM_UP)]

    def kwargs(self, kind: str, index: int, *, warm: bool = False) -> dict:
        vectors = self.warm_vectors if warm else self.vectors
        arguments = {"vector": vectors[index], "limit": LIMIT, "embedding_model": MODEL}
        if kind == "hybrid":
            arguments["query"] = (self.warm_words if warm else self.words)[index]
        if kind == "filtered":
            arguments["client_id"] = int((self.warm_client_ids if warm else self.client_ids)[index])
        return arguments


KINDS = ("vector", "hybrid", "filtered")


def exact_ids(synthetic: Synthetic, size: int, queries: Queries, kind: str) -> list[set[int]]:
    vectors = synthetic.vectors[:size]
    answers = []
    if kind == "vector":
        for start in range(0, QUERIES, 50):
            scores = queries.vectors[start : start + 50] @ vectors.T
            top = np.argpartition(-scores, LIMIT, axis=1)[:, :LIMIT]
            answers += [set((row + 1).tolist()) for row in top]
    elif kind == "filtered":
        owners = synthetic.clients[:size]
        for index in range(QUERIES):
            rows = np.flatnonzero(owners == queries.client_index[index])
            scores = vectors[rows] @ queries.vectors[index]
            answers.append(set((rows[np.argpartition(-scores, LIMIT)[:LIMIT]] + 1).tolist()))
    else:
        for index in range(HYBRID_EXACT):
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL enable_indexscan = off")
                    cursor.execute("SET LOCAL enable_bitmapscan = off")
                answers.append({hit.id for hit in memory_search(**queries.kwargs("hybrid", index))})
    return answers


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)]


def timed_searches(queries: Queries, kind: str, ef_search: int | None = None):
    for index in range(WARM_UP):
        memory_search(**queries.kwargs(kind, index, warm=True), ef_search=ef_search)
    timings, results = [], []
    for index in range(QUERIES):
        started = time.perf_counter()
        hits = memory_search(**queries.kwargs(kind, index), ef_search=ef_search)
        timings.append((time.perf_counter() - started) * 1000)
        results.append({hit.id for hit in hits})
    return timings, results


def recall(results: list[set[int]], exact: list[set[int]]) -> float:
    return statistics.mean(len(got & want) / len(want) for got, want in zip(results, exact, strict=False))


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def exact_answers(synthetic: Synthetic, size: int, client_ids: np.ndarray):
    """Queries and their exact answers, computed before the indexes are built: pages the timed searches
    need are not pushed out of the cache by the exact scans (this VM pages out what is idle for 30 s)."""
    queries = Queries(synthetic, size, client_ids)
    say(f"exact answers: numpy over {size:,} vectors; hybrid: memory_search with index scans off ...")
    started = time.perf_counter()
    exact = {kind: exact_ids(synthetic, size, queries, kind) for kind in ("vector", "filtered")}
    exact_started = time.perf_counter()
    exact["hybrid"] = exact_ids(synthetic, size, queries, "hybrid")
    exact_hybrid_ms = (time.perf_counter() - exact_started) * 1000 / HYBRID_EXACT
    say(f"  .. exact answers in {time.perf_counter() - started:.1f} s")
    return queries, exact, exact_hybrid_ms


def search_figures(size: int, queries: Queries, exact: dict, exact_hybrid_ms: float) -> dict[str, tuple]:
    say(
        f"{LIMIT} results per search; {QUERIES} timed searches per kind after {WARM_UP} warm-up ones; "
        f"recall@{LIMIT} over {QUERIES} searches ({HYBRID_EXACT} for hybrid)"
    )
    say(f"  {'search':<10} {'p50 ms':>8} {'p95 ms':>8} {'recall@10':>10}   targets")
    figures, runs = {}, {}
    for kind in KINDS:
        timings, results = timed_searches(queries, kind)
        runs[kind] = (timings, results)
        p50, p95, hit_rate = (
            statistics.median(timings),
            percentile(timings, 0.95),
            recall(results, exact[kind]),
        )
        figures[kind] = (p50, p95, hit_rate)
        targets = [f"recall >= {RECALL_TARGET} {mark(hit_rate >= RECALL_TARGET)}"]
        if kind == "hybrid" and size == 100000:
            targets.insert(0, f"p50 <= {HYBRID_P50_MS_100K} ms {mark(p50 <= HYBRID_P50_MS_100K)}")
        if kind == "vector" and size == 1000000:
            targets.insert(0, f"p50 <= {VECTOR_P50_MS_1M} ms {mark(p50 <= VECTOR_P50_MS_1M)}")
        say(f"  {kind:<10} {p50:8.2f} {p95:8.2f} {hit_rate:10.3f}   " + "; ".join(targets))
    say(f"  baseline: exact hybrid search (index scans off) {exact_hybrid_ms:.1f} ms per search")
    timings, results = [], []
    for index in range(QUERIES):
        started = time.perf_counter()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_indexscan = off")  # no HNSW: the client_id bitmap + sort
            results.append({hit.id for hit in memory_search(**queries.kwargs("filtered", index))})
        timings.append((time.perf_counter() - started) * 1000)
    say(
        f"  baseline: filtered without the HNSW index (client_id bitmap scan + exact sort)  "
        f"p50 {statistics.median(timings):.2f} ms  p95 {percentile(timings, 0.95):.2f} ms  "
        f"recall@10 {recall(results, exact['filtered']):.3f}"
    )
    plans = [_plan_kind(_product_plan("filtered", queries, index, analyze=False)) for index in range(QUERIES)]
    timings, results = runs["filtered"]
    for plan in sorted(set(plans)):
        chosen = [index for index, kind in enumerate(plans) if kind == plan]
        say(
            f"  filtered searches planned as {plan + ':':<25} {len(chosen):>3}  "
            f"p50 {statistics.median(timings[i] for i in chosen):6.2f} ms  recall@10 "
            f"{recall([results[i] for i in chosen], [exact['filtered'][i] for i in chosen]):.3f}"
        )
    say(f"  keyword matches per hybrid query: median {_keyword_matches(queries):,}")
    sweep = os.environ.get("AIOS_BENCH_MEMORY_EF", "").strip()
    if sweep:
        # ef_search only matters where HNSW is used; each setting is timed on a second pass over the same
        # queries (hot cache), so the rows compare with each other rather than with the figures above.
        swept = [kind for kind in KINDS if kind != "filtered" or "HNSW iterative scan" in plans]
        say(
            f"  hnsw.ef_search trade-off (hot cache)  {'ef':>4}"
            + "".join(f"{kind + ' p50/p95/recall':>28}" for kind in swept)
        )
        for ef in [int(value) for value in sweep.split(",")]:
            cells = []
            for kind in swept:
                timed_searches(queries, kind, ef_search=ef)
                timings, results = timed_searches(queries, kind, ef_search=ef)
                hit_rate = recall(results, exact[kind])
                cells.append(
                    f"{statistics.median(timings):7.2f} {percentile(timings, 0.95):7.2f} {hit_rate:7.3f}"
                )
            say(f"  {'':<36} {ef:>4}" + "".join(f"{cell:>28}" for cell in cells))
    if os.environ.get("AIOS_BENCH_MEMORY_EXPLAIN"):
        for kind in ("vector", "hybrid"):
            _explain(kind, queries)
        for plan in sorted(set(plans)):
            _explain("filtered", queries, plans.index(plan))
        _explain("nearest", queries)
    return figures


def _keyword_matches(queries: Queries) -> int:
    counts = []
    with connection.cursor() as cursor:
        for words in queries.words[:50]:
            cursor.execute(
                f"SELECT count(*) FROM {TABLE} WHERE search @@ "  # noqa: S608 - a constant table name
                "to_tsquery('english', replace(plainto_tsquery('english', %s)::text, ' & ', ' | '))",
                [words],
            )
            counts.append(cursor.fetchone()[0])
    return int(statistics.median(counts))


def _product_plan(kind: str, queries: Queries, index: int, *, analyze: bool) -> list[str]:
    """EXPLAIN of the SQL the product ran for one query, under the session settings it set."""
    with CaptureQueriesContext(connection) as captured:
        if kind == "nearest":
            memory_nearest(
                vector=queries.vectors[index],
                client_id=int(queries.client_ids[index]),
                project_id=None,
                embedding_model=MODEL,
            )
        else:
            memory_search(**queries.kwargs(kind, index))
    statements = [query["sql"] for query in captured.captured_queries]
    explain = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in statements:
            if sql.startswith("SET") or sql.startswith("SELECT set_config"):
                cursor.execute(sql)
        cursor.execute(explain + next(sql for sql in statements if "WITH" in sql))
        return [VECTOR_LITERAL.sub("'[...]'", line) for (line,) in cursor.fetchall()]


def _plan_kind(plan: list[str]) -> str:
    text = "\n".join(plan)
    if "memory_embedding_hnsw" in text:
        return "HNSW iterative scan"
    if "client_id" in text:
        return "client_id b-tree + sort"
    return "seq scan" if "Seq Scan" in text else "other"


def _explain(kind: str, queries: Queries, index: int = 0) -> None:
    plan = _product_plan(kind, queries, index, analyze=True)
    if os.environ.get("AIOS_BENCH_MEMORY_EXPLAIN") == "full":
        say(f"  EXPLAIN (ANALYZE, BUFFERS) of {kind}:")
        for line in plan:
            say(f"    {line}")
        return
    say(f"  plan of {kind} search #{index} ({plan[-1].strip().lower()}):")
    for line in _scan_nodes(plan):
        say(f"    {line}")


PLAN_NODE = re.compile(
    r"(\w[^(]*?Scan[^(]*?)\s+\(cost=[^)]*\)\s+\(actual time=[\d.]+\.\.([\d.]+) rows=([\d.]+)"
)


def _scan_nodes(plan: list[str]) -> list[str]:
    """The scans of a plan, one line each: where the rows come from, how many were filtered away and
    how many buffers were touched."""
    nodes: list[list[str]] = []
    current: list[str] | None = None
    for line in plan:
        if "(actual time" in line or line.strip().startswith("Planning"):
            match = PLAN_NODE.search(line)
            current = None
            if match and not match.group(1).startswith(("CTE Scan", "Subquery Scan")):
                name = re.sub(r" on core_memoryitem m(_1)?", "", match.group(1))
                current = [f"{name}: {float(match.group(2)):.2f} ms, {float(match.group(3)):.0f} rows"]
                nodes.append(current)
        elif current is not None and ("Rows Removed by Filter" in line or "Buffers:" in line):
            current.append(line.strip().lower())
    return ["; ".join(node) for node in nodes]


# --- Adding -------------------------------------------------------------------------------------


def _statement_kind(sql: str) -> str:
    if "FOR UPDATE" in sql:
        return "existing"
    if "WITH near" in sql:
        return "nearest"
    if sql.startswith("INSERT"):
        return "insert"
    if sql.startswith(("SET", "SELECT set_config")):
        return "settings"
    if sql.startswith(("SAVEPOINT", "RELEASE")):
        return "savepoints"
    return "other"


def add_latency(synthetic: Synthetic, clients: list[Client], size: int) -> float:
    """memory_item_add of fresh texts, each in its own transaction like the task that stores it; then
    where the time goes (statements timed with an execute wrapper, the rest is Python and COMMIT)."""
    rng = np.random.default_rng([SEED, 3, size])
    count = ADD_WARM_UP + ADDS
    clusters = rng.integers(0, CENTRES, count)
    vectors = synthetic.unit_vectors(rng, clusters)
    texts = synthetic.texts(rng, clusters)
    owners = rng.integers(0, CLIENTS, count)
    timings, outcomes, added, nearest = [], {}, [], []
    spent: dict[str, float] = {}

    def timed_execute(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = _statement_kind(sql)
            spent[kind] = spent.get(kind, 0.0) + time.perf_counter() - started

    for index in range(count):
        if index == ADD_WARM_UP:
            spent.clear()
        started = time.perf_counter()
        with connection.execute_wrapper(timed_execute), transaction.atomic():
            item, outcome = memory_item_add(
                text=texts[index],
                kind=MemoryItem.Kind.NOTE,
                client=clients[owners[index]],
                embedding=vectors[index],
                embedding_model=MODEL,
            )
        if index >= ADD_WARM_UP:
            timings.append((time.perf_counter() - started) * 1000)
            nearest.append(spent.get("nearest", 0.0) * 1000 - sum(nearest))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        added.append(item.pk)
    p50, p95 = statistics.median(timings), percentile(timings, 0.95)
    say(
        f"add latency at {size:>9,} items  p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  ({ADDS} timed adds after "
        f"{ADD_WARM_UP} warm-up; "
        + ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
        + ")"
    )
    means = {kind: seconds * 1000 / ADDS for kind, seconds in spent.items()}
    means["python+commit"] = statistics.mean(timings) - sum(means.values())
    say(
        "  mean ms per add: "
        + ", ".join(f"{kind} {ms:.2f}" for kind, ms in sorted(means.items(), key=lambda kv: -kv[1]))
    )
    say(
        f"  memory_nearest alone: p50 {statistics.median(nearest):.2f} ms  "
        f"p95 {percentile(nearest, 0.95):.2f} ms  max {max(nearest):.2f} ms"
    )
    # Take the added items out again: the exact answers only know the bulk-loaded vectors.
    MemoryItem.objects.filter(pk__in=added).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {TABLE}")
    return p50


# --- Run ----------------------------------------------------------------------------------------


def _clients() -> list[Client]:
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    existing = list(Client.objects.filter(name__startswith="Memory bench client ").order_by("pk"))
    while len(existing) < CLIENTS:
        existing.append(services.client_create(by=user, name=f"Memory bench client {len(existing):03}"))
    return existing[:CLIENTS]


def _stage_header(size: int) -> None:
    say(f"\n-- {size:,} items --  (1-min load average {os.getloadavg()[0]:.1f})")


def run() -> None:
    sizes = sorted(
        int(value) for value in os.environ.get("AIOS_BENCH_MEMORY_SIZES", "100000,1000000").split(",")
    )
    capacity = math.ceil(max(sizes) / CHUNK) * CHUNK
    run_started = time.perf_counter()
    clients = _clients()
    client_ids = np.array([client.pk for client in clients], dtype=np.int64)
    definitions = index_definitions()
    missing = set(REBUILT_INDEXES) - set(definitions)
    if missing:
        raise RuntimeError(f"{TABLE} has no {', '.join(sorted(missing))}: migrate first")
    synthetic = Synthetic(capacity)
    say(
        f"synthetic data: {CENTRES} clusters ({LATENT_DIM}-d latent, spread {SPREAD}) -> {DIM}-d unit "
        f"vectors; 12-20 words per text; {CLIENTS} clients; seed {SEED}; {os.cpu_count()} CPUs"
    )
    truncate()
    try:
        _stage_header(SMALL)
        bulk_load(synthetic, 0, SMALL, client_ids)
        small_p50 = add_latency(synthetic, clients, SMALL)
        truncate()
        loaded = 0
        for size in sizes:
            _stage_header(size)
            drop_indexes()
            bulk_load(synthetic, loaded, size, client_ids)
            loaded = size
            exact = exact_answers(synthetic, size, client_ids)
            build_indexes(definitions)
            search_figures(size, *exact)
            if size == 100000:
                p50 = add_latency(synthetic, clients, size)
                ratio = p50 / small_p50
                say(
                    f"add latency p50 ratio {size:,} / {SMALL:,} items: {ratio:.2f}x  "
                    f"(target <= {ADD_RATIO_TARGET:.0f}x {mark(ratio <= ADD_RATIO_TARGET)})"
                )
            say(f"  .. {time.perf_counter() - run_started:.0f} s since start")
    finally:
        truncate()
        restore_indexes(definitions)
