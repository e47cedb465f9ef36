"""Failure, retry with backoff, deferral for the budget, dead letters, and the operator's controls."""

from __future__ import annotations

import logging
import random
import traceback
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from core import clock
from ledger.models import Action, Notice, OutboxEmail, Task, TaskEvent
from ledger.services.approvals import approvals_cancel_for_task
from ledger.services.claim import Claim, attempt_end
from ledger.services.errors import BudgetDeferred, ClaimLost, NeedsReview
from ledger.services.events import task_event
from ledger.services.notices import budget_notice_submit, notice_raise, notices_resolve_for_task
from ledger.services.submit import task_enqueue

logger = logging.getLogger(__name__)

# Dead letters are "discarded" by cancelling them.
CANCELLABLE = (
    Task.Status.QUEUED,
    Task.Status.RUNNING,
    Task.Status.WAITING_APPROVAL,
    Task.Status.RETRYING,
    Task.Status.DEAD,
)


def retry_delay(*, attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with ±20 % jitter: base · 2^(attempt-1), capped (settings in .env.example)."""
    base = settings.AIOS_TASK_RETRY_BASE_SECONDS
    delay = min(settings.AIOS_TASK_RETRY_MAX_SECONDS, base * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=delay * (rng or random).uniform(0.8, 1.2))  # noqa: S311 - jitter, not crypto


def attempt_fail(*, claim: Claim, exc: BaseException) -> None:
    error = f"{type(exc).__name__}: {exc}"
    trace = "".join(traceback.format_exception(exc))
    logger.error("attempt failed: %s", error)
    with transaction.atomic():
        try:
            task = claim.fenced()
        except ClaimLost:
            return
        task.last_error = error[:10000]
        task.last_traceback = trace[-20000:]
        attempt_end(task=task, status=Task.Status.FAILED, changed=("last_error", "last_traceback"))
        task_event(task=task, kind=TaskEvent.Kind.FAILED, message=error, data={"traceback": trace[-4000:]})
        task_retry_or_dead_letter(task=task, final=isinstance(exc, NeedsReview))


def attempt_defer(*, claim: Claim, exc: BudgetDeferred) -> None:
    """Hold the task back until the budget allows it; the attempt it used is given back."""
    with transaction.atomic():
        try:
            task = claim.fenced()
        except ClaimLost:
            return
        task.attempts = max(task.attempts - 1, 0)
        task.next_attempt_at = clock.now() + timedelta(minutes=settings.AIOS_BUDGET_DEFER_MINUTES)
        attempt_end(task=task, status=Task.Status.RETRYING, changed=("attempts", "next_attempt_at"))
        task_event(
            task=task,
            kind=TaskEvent.Kind.DEFERRED,
            message=str(exc),
            data={"next_attempt_at": task.next_attempt_at.isoformat()},
        )
        transaction.on_commit(lambda: budget_notice_submit(reason=str(exc), budgets=exc.budgets))


def task_retry_or_dead_letter(
    *, task: Task, final: bool = False, reason: str = "", notice: bool = True
) -> None:
    if final or task.attempts >= task.max_attempts:
        task.status = Task.Status.DEAD
        task.finished_at = clock.now()
        task.save(update_fields=["status", "finished_at", "updated_at"])
        message = reason or ("needs review" if final else f"gave up after {task.attempts} attempts")
        task_event(task=task, kind=TaskEvent.Kind.DEAD_LETTERED, message=message)
        if not notice:
            return  # the caller raised a notice of its own that says more
        # Never silent: a dead letter waits for the operator on the back office's front page too.
        notice_raise(
            key=f"task-dead:{task.pk}",
            level=Notice.Level.ERROR,
            title=f"Task {task.workflow} {str(task.pk)[:8]} is dead-lettered",
            body=f"{message}. Last error: {task.last_error[:500] or 'none'}. "
            "Retry or discard it on its page.",
            link=reverse("ledger:task", args=[task.pk]),
            task=task,
        )
        return
    task.status = Task.Status.RETRYING
    task.next_attempt_at = clock.now() + retry_delay(attempt=task.attempts)
    task.save(update_fields=["status", "next_attempt_at", "updated_at"])
    task_event(
        task=task,
        kind=TaskEvent.Kind.RETRY_SCHEDULED,
        data={"next_attempt_at": task.next_attempt_at.isoformat()},
    )


def task_retry(*, task: Task, by: AbstractBaseUser) -> Task:
    """The operator sends a dead letter back to the queue with a fresh set of attempts."""
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.status != Task.Status.DEAD:
            raise ValidationError(
                {"status": f"Only dead-lettered tasks can be retried; this one is {locked.status}."}
            )
        previous = locked.attempts
        locked.status = Task.Status.QUEUED
        locked.attempts = 0
        locked.next_attempt_at = None
        locked.finished_at = None
        locked.save(update_fields=["status", "attempts", "next_attempt_at", "finished_at", "updated_at"])
        # Emails given up on get a fresh delivery window: the operator fixed the cause, or wants another go.
        OutboxEmail.objects.filter(action__task=locked, status=OutboxEmail.Status.FAILED).update(
            status=OutboxEmail.Status.PENDING, first_failed_at=None, next_attempt_at=None
        )
        notices_resolve_for_task(task=locked, resolution=f"retried by {by.get_username()}", by=by)
        task_event(
            task=locked,
            kind=TaskEvent.Kind.REQUEUED,
            attempt=previous,
            data={"by": by.get_username(), "previous_attempts": previous},
        )
        transaction.on_commit(lambda: task_enqueue(task_id=locked.pk))
    return locked


def task_discard(*, task: Task, by: AbstractBaseUser, reason: str = "") -> Task:
    """Give up on a dead letter for good (it stays in the ledger, cancelled, with its record)."""
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.status != Task.Status.DEAD:
            raise ValidationError(
                {"status": f"Only dead-lettered tasks can be discarded; this one is {locked.status}."}
            )
        return task_cancel(task=locked, by=by, reason=(reason or "").strip() or "Discarded")


def task_cancel(*, task: Task, by: AbstractBaseUser, reason: str = "") -> Task:
    """Stop a task (a dead letter is "discarded" this way). Undecided actions are rejected."""
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.status not in CANCELLABLE:
            raise ValidationError({"status": f"A {locked.status} task cannot be cancelled."})
        locked.status = Task.Status.CANCELLED
        locked.finished_at = clock.now()
        locked.lease_expires_at = None
        locked.save(update_fields=["status", "finished_at", "lease_expires_at", "updated_at"])
        locked.actions.filter(status__in=[Action.Status.PROPOSED, Action.Status.APPROVED]).update(
            status=Action.Status.REJECTED,
            decision_reason="task cancelled",
            decided_by=by,
            decided_at=clock.now(),
        )
        approvals_cancel_for_task(task=locked)
        notices_resolve_for_task(task=locked, resolution=f"cancelled by {by.get_username()}", by=by)
        task_event(
            task=locked,
            kind=TaskEvent.Kind.CANCELLED,
            message=(reason or "").strip(),
            data={"by": by.get_username()},
        )
    return locked
