"""The ledger tasks that keep memory: capture of saved records, the hourly maintenance, recalls on tasks.

Memory itself lives in core (core.memory); core asks for this work through its ports
(core.ports.memory_capture_submit, core.ports.memory_recalled), wired in `ledger.apps`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from core import clock
from core.memory.capture import capture_digest, capture_of, source_get
from core.memory.services import memory_compression_batches
from core.models import MemoryRecall
from ledger import services as ledger_services
from ledger.models import Task, TaskEvent

# A summary covers at most this many originals, so one summary stays short enough to be useful.
COMPRESS_BATCH = 40


def memory_capture_submit(*, label: str, pk: int) -> Task | None:
    """Submit the capture task for a record as it is now (None if it says nothing to remember)."""
    record = source_get(label=label, pk=pk)
    if record is None:
        return None
    capture = capture_of(record)
    if not capture.chunks:
        return None
    task, _ = ledger_services.task_submit_or_get(
        workflow="memory.capture",
        input={"source": label, "id": pk},
        idempotency_key=f"memory.capture:{label}:{pk}:{capture_digest(capture)}",
        requested_by="system:memory",
    )
    return task


def memory_recall_record(*, recall: MemoryRecall, items: list[int]) -> None:
    """A recall made for a running task, on the task's timeline (the task page shows the memory used)."""
    TaskEvent.objects.create(
        task=recall.task,
        kind=TaskEvent.Kind.MEMORY_READ,
        attempt=recall.task.attempts,
        step=recall.step,
        message=recall.query[:1000],
        data={"recall": recall.pk, "mode": recall.mode, "items": items},
    )


def memory_maintenance_submit(*, now: datetime | None = None) -> dict[str, Any]:
    """Submit this hour's expiry/retention task and a compression task per subject batch due."""
    now = now or clock.now()
    slot = now.strftime("%Y-%m-%dT%H")
    maintain, _ = ledger_services.task_submit_or_get(
        workflow="memory.maintain",
        input={"now": now.isoformat()},
        idempotency_key=f"schedule:memory-maintain:{slot}",
        requested_by="schedule:memory-maintenance",
    )
    compress = []
    for batch in memory_compression_batches(now=now, size=COMPRESS_BATCH):
        ids = [item["id"] for item in batch["items"]]
        key = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:32]
        task, _ = ledger_services.task_submit_or_get(
            workflow="memory.compress",
            input=batch,
            idempotency_key=f"memory.compress:{key}",
            requested_by="schedule:memory-maintenance",
        )
        compress.append(str(task.pk))
    return {"maintain": str(maintain.pk), "compress": compress}
