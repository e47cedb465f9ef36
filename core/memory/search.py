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
    if vector is not None:
        model_sql, model_params = "", []
        if embedding_model:
            model_sql, model_params = " AND m.embedding_model = %s", [embedding_model]
        literal = vector_literal(vector)
        parts.append(
            f"""vec_raw AS MATERIALIZED (
                SELECT m.id, m.embedding <=> %s::vector AS distance
                FROM core_memoryitem m
                WHERE {where}{model_sql} AND m.embedding IS NOT NULL
                ORDER BY m.embedding <=> %s::vector
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
    limit: int = 1,
) -> list[tuple[int, float, str]]:
    """(id, cosine similarity, text) of the nearest live items of exactly this subject."""
    literal = vector_literal(vector)
    subject = [
        "m.client_id IS NULL" if client_id is None else "m.client_id = %s",
        "m.project_id IS NULL" if project_id is None else "m.project_id = %s",
    ]
    params = [value for value in (client_id, project_id) if value is not None]
    sql = f"""
        WITH near AS MATERIALIZED (
            SELECT m.id, m.embedding <=> %s::vector AS distance, m.text FROM core_memoryitem m
            WHERE m.superseded_by_id IS NULL AND m.embedding IS NOT NULL AND m.embedding_model = %s
              AND {" AND ".join(subject)}
            ORDER BY m.embedding <=> %s::vector LIMIT %s
        )
        SELECT id, 1 - distance, text FROM near ORDER BY distance
    """
    with transaction.atomic(), connection.cursor() as cursor:
        _session_settings(cursor, settings.AIOS_MEMORY_EF_SEARCH)
        cursor.execute(sql, [literal, embedding_model, *params, literal, limit])
        return [(row[0], float(row[1]), row[2]) for row in cursor.fetchall()]
