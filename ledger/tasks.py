"""django-q2 entry points. Thin: each parses its arguments and calls one service."""

import datetime as dt

from django.utils import timezone

from core import clock
from ledger import approvals, memory_jobs, reminders, services


def task_run(task_id: str) -> str:
    return services.task_execute(task_id=task_id)


def tasks_enqueue(task_ids: list[str]) -> int:
    for task_id in task_ids:
        services.task_enqueue(task_id=task_id)
    return len(task_ids)


def ledger_sweep() -> dict:
    return services.ledger_sweep()


def cost_report_daily() -> str:
    """Yesterday's cost report as a ledger task; the schedule slot is its idempotency key."""
    day = timezone.localdate(clock.now()) - dt.timedelta(days=1)
    task = services.task_submit(
        workflow="report.daily_cost",
        input={"day": day.isoformat()},
        idempotency_key=f"schedule:daily-cost:{day.isoformat()}",
        requested_by="schedule:ledger-daily-cost-report",
    )
    return str(task.pk)


def receivables_sweep() -> dict:
    return reminders.receivables_sweep()


def memory_maintain() -> dict:
    return memory_jobs.memory_maintenance_submit()


def approvals_expire() -> int:
    return approvals.approvals_expire()


def approvals_digest() -> str:
    """Today's digest as a ledger task; the day is its idempotency key (one email a day at most)."""
    day = timezone.localdate(clock.now()).isoformat()
    task = services.task_submit(
        workflow="approvals.digest",
        input={"day": day},
        idempotency_key=f"schedule:approvals-digest:{day}",
        requested_by="schedule:approvals-digest",
    )
    return str(task.pk)
