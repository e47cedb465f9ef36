"""The receivables sweep: hourly, it marks invoices past due as overdue and, on working days in working
hours (the reminder policy, in the workspace's time zone), drafts the reminder level each overdue invoice
is due for as an `invoice.remind` task — which proposes the email for the operator's approval.

Each (invoice, level) pair is drafted once: the sweep holds an advisory lock, reads what is due and records
the drafted levels in one transaction, so two sweeps (two worker machines) never draft the same one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from core import clock
from core import services as core_services
from ledger.models import Action, Policy
from ledger.policy.params import ReminderParams
from ledger.policy.store import policies_enabled
from ledger.services import task_submit

# Reminders of one client drafted by one task: each is its own action (approved one by one or in a batch).
REMINDERS_PER_TASK = 100


def reminder_policy() -> ReminderParams | None:
    """The enabled reminder policy (the first, when several); None: no reminders are drafted."""
    for policy in policies_enabled(Policy.Kind.REMINDER):
        return ReminderParams.model_validate(policy.params)
    return None


def reminders_held() -> frozenset[int]:
    """Invoices a client's mail asked to hold whose pause is not committed yet (it commits with the rest
    of its task, once the operator has decided the reply): they are held already."""
    pending = Action.objects.filter(
        kind="invoice.reminders_pause", status__in=[Action.Status.PROPOSED, Action.Status.APPROVED]
    ).values_list("payload", flat=True)
    return frozenset(invoice_id for payload in pending for invoice_id in payload.get("invoice_ids", []))


def working_now(params: ReminderParams, now: dt.datetime) -> bool:
    """Whether `now` is a working day and hour in the workspace's time zone."""
    local = now.astimezone(ZoneInfo(settings.TIME_ZONE))
    start, end = params.working_hours.split("-")
    return local.weekday() in params.working_days and start <= local.strftime("%H:%M") < end


@transaction.atomic
def receivables_sweep(*, now: dt.datetime | None = None, any_hour: bool = False) -> dict[str, Any]:
    """`any_hour`: draft even outside working hours — for the demo, whose reminders only wait for the
    operator (approving one sends it, whatever the hour). The schedule never sets it."""
    now = now or clock.now()
    today = now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('aios.receivables_sweep'))")
    marked = core_services.invoices_overdue_mark(today=today)
    params = reminder_policy()
    if params is None:
        return {"overdue": marked, "reminders": 0, "why": "no reminder policy is enabled"}
    if not any_hour and not working_now(params, now):
        return {"overdue": marked, "reminders": 0, "why": "outside working days and hours"}
    levels = [
        core_services.ReminderLevel(name=level.name, after_days=level.after_days) for level in params.levels
    ]
    due = core_services.invoice_reminders_due(
        today=today, levels=levels, min_gap_days=params.min_gap_days, held=reminders_held()
    )
    templates = {level.name: level.template for level in params.levels}
    # One task per client (its scope: a reminder writer reads one client's invoices), in chunks.
    by_client: dict[int, list[core_services.ReminderDue]] = {}
    for item in due:
        by_client.setdefault(item.client_id, []).append(item)
    task_ids: dict[int, str] = {}
    for client_id, items in sorted(by_client.items()):
        for start in range(0, len(items), REMINDERS_PER_TASK):
            chunk = items[start : start + REMINDERS_PER_TASK]
            task = task_submit(
                workflow="invoice.remind",
                input={
                    "client_id": client_id,
                    "reminders": [
                        {
                            "invoice_id": item.invoice_id,
                            "level": item.level,
                            "template": templates[item.level],
                            "days_overdue": item.days_overdue,
                            "final": item.level == params.levels[-1].name,
                        }
                        for item in chunk
                    ],
                },
                idempotency_key=f"reminders:{today.isoformat()}:{chunk[0].invoice_id}:{chunk[0].level}",
                requested_by="schedule:receivables-sweep",
            )
            task_ids.update({item.invoice_id: str(task.pk) for item in chunk})
    core_services.invoice_reminders_propose(due=due, task_ids=task_ids)
    return {"overdue": marked, "reminders": len(due), "tasks": len(set(task_ids.values()))}
