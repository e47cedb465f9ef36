"""The scheduled memory jobs: each run submits ledger tasks, so every deletion and compression is
recorded with what it did and why."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.utils import timezone

from core.memory.services import memory_compression_groups
from core.models import MemoryItem

# A summary covers at most this many originals, so one summary stays short enough to be useful.
COMPRESS_BATCH = 40


def memory_maintenance_submit(*, now: datetime | None = None) -> dict[str, Any]:
    """Submit this hour's expiry/retention task and a compression task per subject batch due."""
    from ledger import services as ledger_services

    now = now or timezone.now()
    slot = now.strftime("%Y-%m-%dT%H")
    maintain, _ = ledger_services.task_submit_or_get(
        workflow="memory.maintain",
        input={"now": now.isoformat()},
        idempotency_key=f"schedule:memory-maintain:{slot}",
        requested_by="schedule:memory-maintenance",
    )
    compress = []
    for group in memory_compression_groups(now=now):
        ids = group["items"]
        for start in range(0, len(ids), COMPRESS_BATCH):
            batch = ids[start : start + COMPRESS_BATCH]
            if len(batch) < 2:
                continue
            items = [
                {"id": pk, "text": text, "created_at": created.isoformat()}
                for pk, text, created in MemoryItem.objects.filter(pk__in=batch)
                .order_by("created_at", "pk")
                .values_list("pk", "text", "created_at")
            ]
            key = hashlib.sha256(",".join(map(str, batch)).encode()).hexdigest()[:32]
            task, _ = ledger_services.task_submit_or_get(
                workflow="memory.compress",
                input={"client": group["client"], "project": group["project"], "items": items},
                idempotency_key=f"memory.compress:{key}",
                requested_by="schedule:memory-maintenance",
            )
            compress.append(str(task.pk))
    return {"maintain": str(maintain.pk), "compress": compress}
