"""Django's PostgreSQL backend (psycopg 3) with one change: every string and every JSON value a query
sends is cleaned of the characters PostgreSQL refuses (NUL, lone surrogates) — see core.dbtext.

Strings are cleaned by psycopg dumpers registered on each new connection, so parameters of every query
(ORM, `.update()`, raw SQL, django-q2's own tables) pass through them; JSON values are cleaned before
they are serialised, because `\\u0000` inside jsonb is refused too and is no longer a NUL character by
then. A mail with a NUL byte in it used to dead-letter its intake task on the step checkpoint.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base, operations
from psycopg.types.string import StrBinaryDumper, StrDumperUnknown

from core.dbtext import db_json, db_text


class CleanStrDumper(StrDumperUnknown):
    def dump(self, obj: str) -> Any:
        return super().dump(db_text(obj))


class CleanStrBinaryDumper(StrBinaryDumper):
    def dump(self, obj: str) -> Any:
        return super().dump(db_text(obj))


class DatabaseOperations(operations.DatabaseOperations):
    def adapt_json_value(self, value: Any, encoder: Any) -> Any:
        return super().adapt_json_value(db_json(value), encoder)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        # The text dumper last: the one registered last also serves the automatic format, as psycopg's own
        # (untyped) text dumper does by default.
        connection.adapters.register_dumper(str, CleanStrBinaryDumper)
        connection.adapters.register_dumper(str, CleanStrDumper)
        return connection
