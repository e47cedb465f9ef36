"""The task timeline: one append-only event per thing that happened to a task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.models import Task, TaskEvent


def task_event(
    *,
    task: Task,
    kind: str,
    attempt: int | None = None,
    step: str = "",
    message: str = "",
    data: Mapping[str, Any] | None = None,
) -> TaskEvent:
    return TaskEvent.objects.create(
        task=task,
        kind=kind,
        attempt=task.attempts if attempt is None else attempt,
        step=step,
        message=message[:10000],
        data=dict(data or {}),
    )
