"""The events of an invoice's timeline and who made them, read from the invoice's history rows
(django-simple-history): a change the ledger's commit step made carries the reason "task <id> (<workflow>)"
(ledger.commit.registry), the overdue sweep its own reason, an operator's change the user."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.models import Invoice
from ledger.models import Task

TASK_REASON = re.compile(r"^task ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b")
# The reason core.services.receivables.invoices_overdue_mark writes on the history rows it adds.
SWEEP_REASON = "overdue: past its due date"
KINDS = (
    "created",
    "issued",
    "document",
    "sent",
    "overdue",
    "reminder_proposed",
    "reminder_sending",
    "reminder_sent",
    "reminder_cancelled",
    "reminders_paused",
    "reminders_resumed",
    "payment",
    "paid",
    "voided",
    "credit_note",
    "status",
    "action",
    "email",
)


@dataclass
class TimelineEvent:
    at: dt.datetime
    kind: str  # one of KINDS
    title: str
    detail: str = ""
    by: str = ""  # the operator's name, "task 1a2b3c4d (invoice.remind)", "receivables sweep" or "system"
    task_id: uuid.UUID | None = None
    task_workflow: str = ""
    payment_id: int | None = None
    action_id: int | None = None
    amount: Decimal | None = None
    currency: str = ""


@dataclass
class Timeline:
    invoice: Invoice
    events: list[TimelineEvent] = field(default_factory=list)


def task_of(reason: str | None) -> uuid.UUID | None:
    match = TASK_REASON.match(reason or "")
    return uuid.UUID(match.group(1)) if match else None


class Who:
    """Names who made a change, from the tasks read once for the whole timeline."""

    def __init__(self, tasks: dict[uuid.UUID, Task]) -> None:
        self.tasks = tasks

    def task(self, task_id: uuid.UUID | None, workflow: str = "") -> dict[str, Any]:
        if task_id is None:
            return {}
        task = self.tasks.get(task_id)
        workflow = task.workflow if task is not None else workflow
        return {
            "by": f"task {str(task_id)[:8]} ({workflow})" if workflow else f"task {str(task_id)[:8]}",
            "task_id": task_id,
            "task_workflow": workflow,
        }

    def history(self, row: Any) -> dict[str, Any]:
        task_id = task_of(row.history_change_reason)
        if task_id is not None:
            return self.task(task_id)
        if row.history_user_id is not None:
            return {"by": row.history_user.get_username()}
        if row.history_change_reason == SWEEP_REASON:
            return {"by": "receivables sweep"}
        return {"by": "system"}


def _status_event(row: Any) -> tuple[str, str, str]:
    """(kind, title, detail) of a history row that changed the status."""
    money = f"{row.total} {row.currency}"
    if row.status == Invoice.Status.APPROVED:
        return "issued", f"Issued as {row.number}", f"dated {row.issue_date}, due {row.due_date}; {money}"
    if row.status == Invoice.Status.SENT:
        when = f"sent {row.sent_at:%Y-%m-%d %H:%M}" if row.sent_at else ""
        return "sent", "Marked sent", when
    if row.status == Invoice.Status.OVERDUE:
        since = row.overdue_since or row.due_date
        return "overdue", "Overdue", f"past its due date {row.due_date}; overdue since {since}"
    if row.status == Invoice.Status.PAID:
        return "paid", "Paid", f"paid {row.paid_at:%Y-%m-%d}" if row.paid_at else ""
    if row.status == Invoice.Status.VOID:
        return "voided", "Voided", row.void_reason
    return "status", f"Status: {Invoice.Status(row.status).label}", ""


def history_events(rows: list[Any], who: Who) -> list[TimelineEvent]:
    events: list[TimelineEvent] = []
    before = None
    for row in rows:
        by = who.history(row)
        if row.history_type == "+":
            title = "Created as a draft" if row.status == Invoice.Status.DRAFT else "Created (imported)"
            events.append(TimelineEvent(at=row.history_date, kind="created", title=title, **by))
        if row.history_type != "-" and row.status != getattr(before, "status", Invoice.Status.DRAFT):
            kind, title, detail = _status_event(row)
            events.append(TimelineEvent(at=row.history_date, kind=kind, title=title, detail=detail, **by))
        if row.document_id and not getattr(before, "document_id", None):
            events.append(
                TimelineEvent(
                    at=row.history_date,
                    kind="document",
                    title="Document frozen",
                    detail="PDF/A-3 with its Factur-X XML, stored once",
                    **by,
                )
            )
        if row.reminders_paused != getattr(before, "reminders_paused", False):
            if row.reminders_paused:
                kind, title, detail = "reminders_paused", "Reminders held", row.reminders_pause_reason
            else:
                kind, title, detail = "reminders_resumed", "Reminders resumed", ""
            events.append(TimelineEvent(at=row.history_date, kind=kind, title=title, detail=detail, **by))
        before = row
    return events
