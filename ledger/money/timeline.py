"""One invoice's life as one list, oldest first: created, issued, its document frozen, sent, overdue, each
reminder, each payment allocated to it, paid, voided and credited, reminders held and resumed — and the
ledger actions that name it. Each event says when, who (the operator, or the task that did it) and links
the task.

Status changes are read from the invoice's history (ledger.money.events); reminders, payments and actions
from their own rows. Seven queries whatever the invoice's length of life.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from core.models import Invoice, InvoiceReminder, PaymentAllocation
from ledger.models import Action, OutboxEmail, Task
from ledger.money.events import KINDS, Timeline, TimelineEvent, Who, history_events, task_of

__all__ = ["KINDS", "Timeline", "TimelineEvent", "invoice_timeline", "invoice_timeline_events"]

REMIND_KIND = "invoice.remind"


def _linked_actions(invoice_id: int) -> list[Action]:
    """Actions whose payload names the invoice (`invoice_id`, `invoice_ids`, a payment's allocations) and
    the proposal acceptance that drafted it."""
    names_it = (
        Q(payload__invoice_id=invoice_id)
        | Q(payload__invoice_ids__contains=[invoice_id])
        | Q(payload__allocations__contains=[{"invoice_id": invoice_id}])
        | Q(kind="proposal.accept", result__invoice=invoice_id)
    )
    return list(
        Action.objects.filter(names_it)
        .select_related("task", "decided_by", "outbox_email", "approval")
        .order_by("created_at", "id")
    )


def _reminder_events(
    reminders: list[InvoiceReminder], actions: list[Action], who: Who
) -> list[TimelineEvent]:
    by_level = {str(a.payload.get("level")): a for a in actions if a.kind == REMIND_KIND}
    events = []
    for reminder in reminders:
        level = reminder.level.capitalize()
        action = by_level.get(reminder.level)
        drafted_by = who.task(reminder.task_id, REMIND_KIND)
        events.append(
            TimelineEvent(
                at=reminder.created_at,
                kind="reminder_proposed",
                title=f"{level} reminder drafted",
                detail=f"{reminder.days_overdue} days overdue",
                **drafted_by,
            )
        )
        outcome = _reminder_outcome(reminder, action)
        if outcome is not None:
            at, kind, what, detail = outcome
            acted_by = who.task(action.task_id, action.task.workflow) if action else drafted_by
            events.append(
                TimelineEvent(at=at, kind=kind, title=f"{level} reminder {what}", detail=detail, **acted_by)
            )
    return events


def _reminder_outcome(
    reminder: InvoiceReminder, action: Action | None
) -> tuple[dt.datetime, str, str, str] | None:
    """What became of a drafted reminder — (when, kind, what, detail) — or None while it waits."""
    acted = ((action.committed_at or action.decided_at) if action else None) or reminder.created_at
    if reminder.status == InvoiceReminder.Status.SENDING:
        return acted, "reminder_sending", "approved, sending", ""
    if reminder.status == InvoiceReminder.Status.SENT:
        return reminder.sent_at or acted, "reminder_sent", "sent", _recipients(action)
    if reminder.status == InvoiceReminder.Status.CANCELLED:
        return acted, "reminder_cancelled", "cancelled", reminder.note
    return None


def _recipients(action: Action | None) -> str:
    to = action.payload.get("to") if action is not None else None
    return f"to {', '.join(map(str, to))}" if isinstance(to, list) and to else ""


def _payment_events(
    allocations: list[PaymentAllocation], made_by: dict[int, Any], who: Who
) -> list[TimelineEvent]:
    events = []
    for allocation in allocations:
        payment = allocation.payment
        row = made_by.get(allocation.pk)
        source = payment.get_source_display().lower()
        reference = f", reference “{payment.reference}”" if payment.reference else ""
        payer = f" from {payment.payer_name}" if payment.payer_name else ""
        events.append(
            TimelineEvent(
                at=allocation.created_at,
                kind="payment",
                title=f"Payment of {allocation.amount} {payment.currency} allocated",
                detail=(
                    f"{payment.amount} {payment.currency} received {payment.received_on}{payer}"
                    f"{reference} ({source})"
                ),
                payment_id=payment.pk,
                amount=allocation.amount,
                currency=payment.currency,
                **(who.history(row) if row is not None else {"by": "system"}),
            )
        )
    return events


def _action_events(actions: list[Action], who: Who) -> list[TimelineEvent]:
    events = []
    for action in actions:
        parts = [f"{action.kind} · {action.get_status_display().lower()}"]
        if action.decided_by_id is not None:
            verb = "rejected" if action.status == Action.Status.REJECTED else "approved"
            parts.append(f"{verb} by {action.decided_by.get_username()}")
        approval = getattr(action, "approval", None)
        if approval is not None and approval.reject_reason:
            parts.append(f"reason: {approval.reject_reason}")
        if action.error:
            parts.append(action.error[:200])
        by = who.task(action.task_id, action.task.workflow)
        if action.agent:
            by["by"] = f"{action.agent} in {by['by']}"
        events.append(
            TimelineEvent(
                at=action.created_at,
                kind="action",
                title=action.summary or action.kind,
                detail="; ".join(parts),
                action_id=action.pk,
                amount=action.amount,
                currency=action.currency,
                **by,
            )
        )
        email = getattr(action, "outbox_email", None)
        if email is not None and action.kind != REMIND_KIND and email.status != OutboxEmail.Status.PENDING:
            delivered = email.status == OutboxEmail.Status.SENT
            events.append(
                TimelineEvent(
                    at=(email.sent_at if delivered else None) or email.created_at,
                    kind="email",
                    title=f"Email {'delivered' if delivered else 'not delivered'}: {email.subject}",
                    detail=f"to {', '.join(email.to)}" + ("" if delivered else f"; {email.last_error}"),
                    action_id=action.pk,
                    **who.task(action.task_id, action.task.workflow),
                )
            )
    return events


def invoice_timeline(*, invoice_id: int) -> Timeline:
    """The invoice and its events, oldest first. Raises Invoice.DoesNotExist."""
    invoice = Invoice.objects.select_related("client", "credit_note").get(pk=invoice_id)
    history = list(invoice.history.select_related("history_user").order_by("history_date", "history_id"))
    reminders = list(InvoiceReminder.objects.filter(invoice_id=invoice_id).order_by("created_at", "pk"))
    allocations = list(
        PaymentAllocation.objects.filter(invoice_id=invoice_id)
        .select_related("payment")
        .order_by("created_at", "pk")
    )
    made_by = {
        row.id: row
        for row in PaymentAllocation.history.filter(invoice_id=invoice_id, history_type="+").select_related(
            "history_user"
        )
    }
    actions = _linked_actions(invoice_id)
    task_ids = {task_of(row.history_change_reason) for row in [*history, *made_by.values()]}
    task_ids |= {reminder.task_id for reminder in reminders}
    task_ids.discard(None)
    tasks = Task.objects.only("id", "workflow").in_bulk(task_ids) if task_ids else {}
    who = Who(tasks)

    events = [
        *history_events(history, who),
        *_reminder_events(reminders, actions, who),
        *_payment_events(allocations, made_by, who),
        *_action_events(actions, who),
    ]
    note = getattr(invoice, "credit_note", None)
    if note is not None:
        # Made in the void's transaction (core.services.invoice_void), by whoever voided the invoice.
        voided = next((event for event in events if event.kind == "voided"), None)
        by = (
            {"by": voided.by, "task_id": voided.task_id, "task_workflow": voided.task_workflow}
            if voided
            else {}
        )
        events.append(
            TimelineEvent(
                at=note.created_at,
                kind="credit_note",
                title=f"Credit note {note.number}",
                detail=note.reason,
                **by,
            )
        )
    events.sort(key=lambda event: event.at)  # stable: ties keep the order they were read in
    return Timeline(invoice=invoice, events=events)


def invoice_timeline_events(*, invoice_id: int) -> list[TimelineEvent]:
    """The events alone: what core's `invoice_timeline` port answers (the invoice's back-office page)."""
    return invoice_timeline(invoice_id=invoice_id).events
