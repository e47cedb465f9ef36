"""Writing thousands of rows at once with PostgreSQL's COPY, for imports where `bulk_create` is the cost.

`bulk_create` turns every value into a query parameter (Django's per-field preparation, then psycopg's
text arrays escaped element by element): for a 10,000-line bank statement and its payment proposals that
was most of the import's time. COPY streams the rows instead. What `bulk_create` would have done is done
here once per column: a field not given gets its model default (a callable one called per row;
`auto_now`/`auto_now_add` one timestamp for the batch), and JSON is serialised after the same cleaning as
every JSON value (core.dbtext); strings are cleaned by the backend's dumpers (aios.db), which COPY uses
too. No `save()`, no signals, no history rows — as with `bulk_create`.

Values are sent as psycopg adapts them: str, int, Decimal, date, aware datetime, UUID, None.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from core.dbtext import db_json

_temporary_tables = itertools.count(1)


def _json(field: models.Field) -> Callable[[Any], Any]:
    encoder = field.encoder

    def dump(value: Any) -> Any:
        if value is None and field.null:
            return None
        text = json.dumps(value, cls=encoder)
        # json.dumps escapes as ASCII, so what PostgreSQL refuses can only be in the text as the escape
        # \u0000 or a surrogate's \udXXX; only then is the value cleaned (db_json walks every string of
        # it, which would cost more than the serialising) and serialised again.
        if "\\u0000" in text or "\\ud" in text:
            text = json.dumps(db_json(value), cls=encoder)
        return text

    return dump


def _filler(field: models.Field, now: Any) -> Callable[[], Any]:
    """Where the value of a field not given comes from, as `Model()` and `save()` would take it."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        source: Callable[[], Any] = lambda: now  # noqa: E731 - one timestamp for the batch
    elif field.has_default() and callable(field.default):
        source = field.get_default  # e.g. uuid4, dict: one per row
    else:
        value = field.get_default()  # the constant default, else "" or None as Model() would set
        source = lambda: value  # noqa: E731
    if isinstance(field, models.JSONField):
        dump = _json(field)
        return lambda: dump(source())
    return source


def _plan(
    model: type[models.Model], fields: Sequence[str]
) -> tuple[list[str], Callable[[Sequence[Any]], list[Any]]]:
    """(columns, row maker): the given fields first, then every other concrete field the database does
    not fill itself (an identity primary key, a `db_default`)."""
    opts = model._meta
    given = [opts.get_field(name) for name in fields]
    now = timezone.now()
    fillers = []
    columns = [field.column for field in given]
    for field in opts.concrete_fields:
        if (
            field in given
            or isinstance(field, models.AutoField)
            or field.db_default is not models.NOT_PROVIDED
        ):
            continue
        fillers.append(_filler(field, now))
        columns.append(field.column)
    dumps = [
        (index, _json(field)) for index, field in enumerate(given) if isinstance(field, models.JSONField)
    ]

    def row(values: Sequence[Any]) -> list[Any]:
        out = list(values)
        for index, dump in dumps:
            out[index] = dump(out[index])
        out.extend(fill() for fill in fillers)
        return out

    return columns, row


def _copy(cursor: Any, table: str, columns: list[str], rows: Iterable[list[Any]]) -> int:
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    count = 0
    with cursor.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def rows_copy(*, model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert `rows` (values in the order of `fields`) into the model's table; returns how many. A row the
    table refuses (e.g. a duplicate key) refuses them all, with the usual IntegrityError."""
    columns, row = _plan(model, fields)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        return _copy(cursor.cursor, model._meta.db_table, columns, (row(values) for values in rows))


def rows_insert_new(
    *,
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Insert those of `rows` that conflict with no row already there (`INSERT … ON CONFLICT DO NOTHING`,
    e.g. a key a concurrent import has just written) and return the `returning` fields of each row
    inserted. The rows go through a temporary table, as COPY itself cannot skip conflicts."""
    opts = model._meta
    columns, row = _plan(model, fields)
    table = connection.ops.quote_name(opts.db_table)
    staging = f"_copy_{opts.db_table}_{next(_temporary_tables)}"
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    back = ", ".join(
        connection.ops.quote_name((opts.pk if name == "pk" else opts.get_field(name)).column)
        for name in returning
    )
    with transaction.atomic(), connection.cursor() as cursor, connection.wrap_database_errors:
        # Names are the model's own columns and a counter, never input.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS SELECT {quoted} FROM {table} WITH NO DATA"  # noqa: S608
        )
        _copy(cursor.cursor, staging, columns, (row(values) for values in rows))
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {staging} ON CONFLICT DO NOTHING "  # noqa: S608
            f"RETURNING {back}"
        )
        inserted = cursor.fetchall()
        cursor.execute(f"DROP TABLE {staging}")
    return [tuple(values) for values in inserted]
