"""Claiming an attempt: one conditional UPDATE wins it, and its token fences every later write."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Sum

from core import clock
from ledger.models import Task, TaskEvent
from ledger.services.errors import ClaimLost
from ledger.services.events import task_event

RUNNABLE = (Task.Status.QUEUED, Task.Status.RETRYING)


@dataclass
class Claim:
    task: Task
    token: uuid.UUID

    def fenced(self) -> Any:
        """The task row, still claimed by us, locked for the caller's transaction."""
        task = Task.objects.select_for_update().get(pk=self.task.pk)
        if task.claim_token != self.token or task.status != Task.Status.RUNNING:
            raise ClaimLost(f"task {task.pk} is {task.status} and no longer ours")
        return task


def _lease() -> timedelta:
    # Longer than django-q2's timeout: a live worker is killed by q2 before its lease runs out, so an
    # expired lease always means the attempt is over.
    return timedelta(seconds=settings.Q_CLUSTER["timeout"] + 5)


def _worker_id() -> str:
    # Computed per claim: q2 forks its workers after this module is imported, so a module constant
    # would name the parent process.
    return f"{socket.gethostname()}:{os.getpid()}"


def task_claim(*, task_id: uuid.UUID) -> Claim | None:
    now = clock.now()
    token = uuid.uuid4()
    worker = _worker_id()
    # The claim and its event commit together: the timeline never misses an attempt.
    with transaction.atomic():
        claimed = (
            Task.objects.filter(pk=task_id, status__in=RUNNABLE, attempts__lt=F("max_attempts"))
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .update(
                status=Task.Status.RUNNING,
                attempts=F("attempts") + 1,
                claim_token=token,
                claimed_by=worker,
                lease_expires_at=now + _lease(),
                started_at=now,
                next_attempt_at=None,
                updated_at=now,
            )
        )
        if not claimed:
            return None
        task = Task.objects.get(pk=task_id)
        task_event(task=task, kind=TaskEvent.Kind.CLAIMED, data={"worker": worker})
    return Claim(task=task, token=token)


def task_cost(*, task: Task) -> Decimal:
    return task.llm_calls.aggregate(total=Sum("cost"))["total"] or Decimal("0")


def attempt_end(*, task: Task, status: str, changed: tuple[str, ...] = ()) -> None:
    """The claimed attempt is over (the caller holds the fenced task row and has set the `changed` fields):
    the task takes its new status, gives up the lease and records what its LLM calls cost so far."""
    task.status = status
    task.lease_expires_at = None
    task.cost = task_cost(task=task)
    task.save(update_fields=["status", *changed, "lease_expires_at", "cost", "updated_at"])
