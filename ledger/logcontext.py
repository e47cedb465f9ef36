"""Structured logs that carry the task they belong to.

`task_context()` puts the task id (and workflow, attempt) in a context variable; `TaskContextFilter`
copies it onto every log record emitted inside, and `JsonFormatter` writes one JSON object per line.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_task: ContextVar[dict[str, Any] | None] = ContextVar("ledger_task", default=None)


@contextmanager
def task_context(**fields: Any) -> Iterator[None]:
    token = _task.set(fields)
    try:
        yield
    finally:
        _task.reset(token)


class TaskContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_task.get() or {}).items():
            setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    FIELDS = ("task_id", "workflow", "attempt")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for field in self.FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
