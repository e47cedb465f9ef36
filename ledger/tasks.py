"""django-q2 entry points. Thin: each parses its arguments and calls one service."""

import datetime as dt

from django.utils import timezone

from ledger import services


def task_run(task_id: str) -> str:
    return services.task_execute(task_id=task_id)


def ledger_sweep() -> dict:
    return services.ledger_sweep()


def cost_report_daily() -> str:
    """Yesterday's cost report as a ledger task; the schedule slot is its idempotency key."""
    day = timezone.localdate() - dt.timedelta(days=1)
    task = services.task_submit(
        workflow="report.daily_cost",
        input={"day": day.isoformat()},
        idempotency_key=f"schedule:daily-cost:{day.isoformat()}",
        requested_by="schedule:ledger-daily-cost-report",
    )
    return str(task.pk)
