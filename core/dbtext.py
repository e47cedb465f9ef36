"""Text as PostgreSQL accepts it: the one sanitiser for everything written to the database.

PostgreSQL refuses two things a Python string can hold: the NUL character (in `text` and, as the
escape `\\u0000`, in `jsonb`) and lone UTF-16 surrogates (they have no UTF-8 encoding; Python makes them
when it decodes bytes with `surrogateescape`). Mail, files and webhooks bring both. Each is replaced by
U+FFFD (the replacement character), so the text keeps its length and shows where something was removed.

The database backend (`aios.db`) applies this to every string and JSON value a query sends, so no model,
service or task can forget it; raw bytes (`BinaryField`) are not text and pass unchanged.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_REFUSED = re.compile("[\x00\ud800-\udfff]")


def db_text(value: str) -> str:
    """`value` with every character PostgreSQL refuses replaced (the same object when there is none)."""
    if _REFUSED.search(value) is None:
        return value
    return _REFUSED.sub(REPLACEMENT, value)


def db_json(value: Any) -> Any:
    """A JSON-able value with db_text applied to every string in it, keys included."""
    if isinstance(value, str):
        return db_text(value)
    if isinstance(value, dict):
        return {db_json(key) if isinstance(key, str) else key: db_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [db_json(item) for item in value]
    return value
