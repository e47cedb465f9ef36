"""The scheduled sweep: recover what crashed workers left behind, hand over what is due."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from core import clock
from ledger.models import Task, TaskEvent
from ledger.services.claim import RUNNABLE
from ledger.services.events import task_event
from ledger.services.failures import task_retry_or_dead_letter
from ledger.services.locking import each_row_locked
from ledger.services.submit import task_enqueue


def ledger_sweep() -> dict[str, int]:
    """Recover what crashed workers left behind and queue retries that are due.

    - running tasks whose lease ran out (the worker died): the attempt counts as failed;
    - retrying tasks whose time has come, and queued tasks nobody picked up: handed to django-q2 again.
    """
    now = clock.now()
    expired = each_row_locked(
        Task.objects.filter(status=Task.Status.RUNNING, lease_expires_at__lt=now),
        lambda task: _lease_expired(task=task, now=now),
    )
    stale_queue = now - timedelta(seconds=settings.AIOS_TASK_REQUEUE_AFTER_SECONDS)
    # A retry is handed over once when it falls due (then updated_at passes next_attempt_at); anything
    # runnable that nobody has claimed for a while is handed over again, in case its package was lost.
    due = list(
        Task.objects.filter(
            Q(status=Task.Status.RETRYING, next_attempt_at__lte=now, updated_at__lt=F("next_attempt_at"))
            | Q(status__in=RUNNABLE, updated_at__lt=stale_queue)
        ).values_list("pk", flat=True)[:1000]
    )
    for task_id in due:
        task_enqueue(task_id=task_id)
    Task.objects.filter(pk__in=due).update(updated_at=now)
    return {"lease_expired": expired, "enqueued": len(due)}


def _lease_expired(*, task: Task, now: datetime) -> None:
    """The worker running the task died: the attempt counts as failed."""
    task.claim_token = None
    task.lease_expires_at = None
    task.last_error = f"The worker {task.claimed_by} stopped answering (lease expired)."
    task.save(update_fields=["claim_token", "lease_expires_at", "last_error", "updated_at"])
    task_event(task=task, kind=TaskEvent.Kind.LEASE_EXPIRED, message=task.last_error)
    if task.attempts >= task.max_attempts:
        task_retry_or_dead_letter(task=task)
    else:
        # A crash is not the task's fault: try again at once rather than after a backoff.
        task.status = Task.Status.RETRYING
        task.next_attempt_at = now
        task.save(update_fields=["status", "next_attempt_at", "updated_at"])
        task_event(task=task, kind=TaskEvent.Kind.RETRY_SCHEDULED, data={"next_attempt_at": now.isoformat()})
        transaction.on_commit(lambda task_id=task.pk: task_enqueue(task_id=task_id))
