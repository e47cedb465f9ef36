"""The SQL of memory search: vector (HNSW, cosine), keyword (tsvector/GIN) and both fused by RRF.

Reads only. Filters on subject and tier are applied inside the HNSW scan with pgvector's iterative
index scans (`hnsw.iterative_scan = relaxed_order`): when a filter drops most of the nearest items the
scan goes on through the graph until it has enough rows, instead of returning fewer than asked.
Relaxed order may return rows slightly out of distance order, so the candidates are materialised and
sorted again (pgvector's documented pattern).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, transaction

RRF_K = 60  # the usual reciprocal-rank-fusion constant: rank 1 scores 1/61, rank 60 half of that


@dataclass
class Hit:
    id: int
    similarity: float | None  # cosine similarity to the query (None: found by keywords only)
    vector_rank: int | None
    keyword_rank: int | None
    fused: float


def vector_literal(vector: Sequence[float] | np.ndarray) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


def _filters(
    *, client_id: int | None, project_id: int | None, tiers: Sequence[str] | None
) -> tuple[str, list]:
    sql = ["m.superseded_by_id IS NULL", "(m.expires_at IS NULL OR m.expires_at > now())"]
    params: list = []
    if client_id is not None:
        sql.append("m.client_id = %s")
        params.append(client_id)
    if project_id is not None:
        sql.append("m.project_id = %s")
        params.append(project_id)
    if tiers:
        sql.append("m.tier = ANY(%s)")
        params.append(list(tiers))
    return " AND ".join(sql), params


def _session_settings(cursor, ef_search: int) -> None:
    cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
    cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(ef_search)])


def _subject_is_small(cursor, *, client_id: int | None, project_id: int | None) -> bool:
    """Whether a subject filter leaves few enough rows to compare the query with every one of them.

    HNSW answers a filter that keeps ~1 % of the rows by walking on until it has found enough that
    pass (iterative scan), which finds good rows but not always the nearest ones. A small subject —
    one client or project of a one-person business — is cheaper and exact to scan whole (bitmap scan
    of its b-tree index); only a subject larger than AIOS_MEMORY_EXACT_SCAN_MAX goes through HNSW.
    """
    if client_id is None and project_id is None:
        return False
    column, value = ("project_id", project_id) if project_id is not None else ("client_id", client_id)
    limit = settings.AIOS_MEMORY_EXACT_SCAN_MAX
    cursor.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM core_memoryitem WHERE {column} = %s LIMIT %s) s",
        [value, limit + 1],
    )
    return cursor.fetchone()[0] <= limit


def memory_search(
    *,
    vector: Sequence[float] | np.ndarray | None,
    query: str = "",
    client_id: int | None = None,
    project_id: int | None = None,
    tiers: Sequence[str] | None = None,
    limit: int = 40,
    keyword_weight: float = 1.0,
    embedding_model: str | None = None,
    ef_search: int | None = None,
) -> list[Hit]:
    """Up to `limit` candidates, best fused score first.

    The vector side ranks live items by cosine distance; the keyword side ranks items matching any
    word of the query (stemmed, English) by cover density. Each side contributes 1/(60 + rank),
    the keyword side scaled by `keyword_weight`; either side alone can bring a candidate in.
    """
    where, params = _filters(client_id=client_id, project_id=project_id, tiers=tiers)
    parts: list[str] = []
    all_params: list = []
    with transaction.atomic(), connection.cursor() as cursor:
        exact = vector is not None and _subject_is_small(cursor, client_id=client_id, project_id=project_id)
    if vector is not None:
        model_sql, model_params = "", []
        if embedding_model:
            model_sql, model_params = " AND m.embedding_model = %s", [embedding_model]
        literal = vector_literal(vector)
        # `+ 0` hides the distance from the planner's index matching: an exact scan of the subject.
        order = "(m.embedding <=> %s::vector) + 0" if exact else "m.embedding <=> %s::vector"
        parts.append(
            f"""vec_raw AS MATERIALIZED (
                SELECT m.id, m.embedding <=> %s::vector AS distance
                FROM core_memoryitem m
                WHERE {where}{model_sql} AND m.embedding IS NOT NULL
                ORDER BY {order}
                LIMIT %s
            ),
            vec AS (SELECT id, distance, row_number() OVER (ORDER BY distance, id) AS rank FROM vec_raw)"""
        )
        all_params += [literal, *params, *model_params, literal, limit]
    else:
        parts.append(
            "vec AS (SELECT NULL::bigint AS id, NULL::float8 AS distance, NULL::bigint AS rank WHERE false)"
        )
    words = query.strip()
    if words:
        # plainto_tsquery ANDs the words; a paraphrase rarely has all of them, so OR them instead and
        # let cover density rank items with more (and closer) matches first.
        parts.append(
            f"""q AS (SELECT replace(plainto_tsquery('english', %s)::text, ' & ', ' | ') AS text),
            kw_raw AS MATERIALIZED (
                SELECT m.id, ts_rank_cd(m.search, to_tsquery('english', q.text)) AS score
                FROM core_memoryitem m, q
                WHERE q.text <> '' AND m.search @@ to_tsquery('english', q.text) AND {where}
                ORDER BY score DESC, m.id
                LIMIT %s
            ),
            kw AS (SELECT id, row_number() OVER (ORDER BY score DESC, id) AS rank FROM kw_raw)"""
        )
        all_params += [words, *params, limit]
    else:
        parts.append("kw AS (SELECT NULL::bigint AS id, NULL::bigint AS rank WHERE false)")
    sql = f"""
        WITH {", ".join(parts)}
        SELECT COALESCE(vec.id, kw.id) AS id, 1 - vec.distance AS similarity, vec.rank, kw.rank,
               COALESCE(1.0 / ({RRF_K} + vec.rank), 0) + %s * COALESCE(1.0 / ({RRF_K} + kw.rank), 0) AS fused
        FROM vec FULL OUTER JOIN kw ON vec.id = kw.id
        ORDER BY fused DESC, id
        LIMIT %s
    """
    all_params += [keyword_weight, limit]
    with transaction.atomic(), connection.cursor() as cursor:
        _session_settings(cursor, ef_search or settings.AIOS_MEMORY_EF_SEARCH)
        cursor.execute(sql, all_params)
        rows = cursor.fetchall()
    return [
        Hit(
            id=row[0],
            similarity=None if row[1] is None else float(row[1]),
            vector_rank=row[2],
            keyword_rank=row[3],
            fused=float(row[4]),
        )
        for row in rows
    ]


def memory_nearest(
    *,
    vector: Sequence[float] | np.ndarray,
    client_id: int | None,
    project_id: int | None,
    embedding_model: str,
    probe: int = 10,
) -> list[tuple[int, float, str]]:
    """(id, cosine similarity, text) of live items of exactly this subject among the `probe` nearest
    items of the whole memory, nearest first.

    Used to spot near-duplicates on every add, so it must not slow down as memory grows: it is one
    unfiltered HNSW probe (logarithmic), and the subject is checked on its few results. A
    near-duplicate is far closer than anything else, so it is among them unless `probe` other
    subjects hold the very same sentence; then the add is stored as new (dedupe by hash still holds).
    """
    literal = vector_literal(vector)
    sql = """
        WITH near AS MATERIALIZED (
            SELECT m.id, m.embedding <=> %s::vector AS distance, m.text, m.client_id, m.project_id
            FROM core_memoryitem m
            WHERE m.superseded_by_id IS NULL AND m.embedding IS NOT NULL AND m.embedding_model = %s
            ORDER BY m.embedding <=> %s::vector LIMIT %s
        )
        SELECT id, 1 - distance, text FROM near
        WHERE client_id IS NOT DISTINCT FROM %s AND project_id IS NOT DISTINCT FROM %s
        ORDER BY distance
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL hnsw.iterative_scan = off")
        cursor.execute("SELECT set_config('hnsw.ef_search', %s, true)", [str(max(probe, 40))])
        cursor.execute(sql, [literal, embedding_model, literal, probe, client_id, project_id])
        return [(row[0], float(row[1]), row[2]) for row in cursor.fetchall()]
