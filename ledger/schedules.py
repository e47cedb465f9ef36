"""Periodic jobs, registered as django-q2 schedules by name so that registering again changes nothing.

`manage.py schedules_ensure` (run by `manage.py up`, and once per release in production) calls
`schedules_ensure()`; the q2 cluster's scheduler then runs them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django_q.models import Schedule


@dataclass(frozen=True)
class Periodic:
    name: str
    func: str
    schedule_type: str
    minutes: int | None = None


SCHEDULES = (
    # Recovers tasks of dead workers (lease expired) and queues retries that are due.
    Periodic("ledger-sweep", "ledger.tasks.ledger_sweep", Schedule.MINUTES, minutes=1),
    # Yesterday's LLM spend per agent and model, as a ledger task whose output the operator reads.
    Periodic("ledger-daily-cost-report", "ledger.tasks.cost_report_daily", Schedule.DAILY),
    # Memory decay: expiry and retention deletions, and compression of old working memory.
    Periodic("memory-maintenance", "ledger.tasks.memory_maintain", Schedule.HOURLY),
    # Approval requests past their time are expired and their tasks told.
    Periodic("approvals-expire", "ledger.tasks.approvals_expire", Schedule.MINUTES, minutes=5),
    # One email a day to the operator: what waits for approval, what was dead-lettered.
    Periodic("approvals-digest", "ledger.tasks.approvals_digest", Schedule.DAILY),
    # Invoices past due become overdue; in working hours the reminders due are drafted for approval.
    Periodic("receivables-sweep", "ledger.tasks.receivables_sweep", Schedule.HOURLY),
    # Email in: every enabled IMAP mailbox, incrementally by UID.
    Periodic("mail-imap-poll", "connectors.tasks.imap_poll_all", Schedule.MINUTES, minutes=1),
    # The whole workspace (database and data folder) to one archive; the newest AIOS_BACKUP_KEEP are kept.
    Periodic("workspace-backup", "aios.tasks.backup_scheduled", Schedule.DAILY),
)


@transaction.atomic
def schedules_ensure() -> dict[str, str]:
    """Create or update each schedule by name; returns {name: "created" | "updated" | "unchanged"}."""
    outcome = {}
    # q2's schedule name is not unique: serialise concurrent registrations (two processes starting).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('aios.schedules_ensure'))")
    for periodic in SCHEDULES:
        wanted = {
            "func": periodic.func,
            "schedule_type": periodic.schedule_type,
            "minutes": periodic.minutes,
            "repeats": -1,
        }
        existing = Schedule.objects.select_for_update().filter(name=periodic.name).first()
        if existing is None:
            Schedule.objects.create(name=periodic.name, **wanted)
            outcome[periodic.name] = "created"
        elif any(getattr(existing, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(existing, field, value)
            existing.save()
            outcome[periodic.name] = "updated"
        else:
            outcome[periodic.name] = "unchanged"
    return outcome
