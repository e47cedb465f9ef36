"""Money the workspace is owed: invoices past due, and the reminder levels each has had.

Built for the daily sweep over every open invoice: marking overdue is one statement (the history rows
are written by the same statement, as simple-history would write them one by one), and finding the
reminders that are due is one query, however many invoices there are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from core import clock
from core.models import Invoice, InvoiceReminder
from core.services._common import User, _save


@dataclass(frozen=True)
class ReminderLevel:
    name: str
    after_days: int  # days past the due date


@dataclass(frozen=True)
class ReminderDue:
    invoice_id: int
    client_id: int
    level: str
    days_overdue: int


@transaction.atomic
def invoices_overdue_mark(*, today: dt.date) -> int:
    """Every sent invoice whose due date has passed becomes overdue (since `today`), with its history row;
    returns how many. One statement whatever the number of invoices."""
    history = Invoice.history.model
    columns = [
        field.column for field in history._meta.concrete_fields if not field.name.startswith("history_")
    ]
    listed = ", ".join(connection.ops.quote_name(column) for column in columns)
    invoice_table = connection.ops.quote_name(Invoice._meta.db_table)
    history_table = connection.ops.quote_name(history._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH due AS (
                UPDATE {invoice_table} SET status = %s, overdue_since = %s, updated_at = %s
                WHERE status = %s AND due_date < %s
                RETURNING *
            )
            INSERT INTO {history_table} ({listed}, history_date, history_change_reason, history_type,
                                         history_user_id)
            SELECT {listed}, %s, %s, '~', NULL FROM due
            """,  # noqa: S608 - table and column names are the models' own
            [
                Invoice.Status.OVERDUE,
                today,
                clock.now(),
                Invoice.Status.SENT,
                today,
                clock.now(),
                "overdue: past its due date",
            ],
        )
        return cursor.rowcount


def invoice_reminders_due(
    *, today: dt.date, levels: list[ReminderLevel], min_gap_days: int, held: frozenset[int] = frozenset()
) -> list[ReminderDue]:
    """The next reminder level each overdue invoice is due for: the first level it has not had whose
    days have passed, at most one per invoice, and none within `min_gap_days` of its last reminder.
    Invoices whose reminders are paused, or `held` (a pause on its way), get none. One query."""
    if not levels:
        return []
    ordered = sorted(levels, key=lambda level: level.after_days)
    # Only invoices missing a level whose day has passed: an anti-join per level on the unique
    # (invoice, level) index, so a workspace whose invoices are up to date reads few rows.
    missing = Q()
    for level in ordered:
        missing |= Q(due_date__lte=today - dt.timedelta(days=level.after_days)) & ~Exists(
            InvoiceReminder.objects.filter(invoice=OuterRef("pk"), level=level.name)
        )
    rows = (
        Invoice.objects.filter(status=Invoice.Status.OVERDUE, reminders_paused=False)
        .filter(missing)
        .annotate(
            had=ArrayAgg("reminders__level", default=[], filter=Q(reminders__isnull=False)),
            last=Max("reminders__created_at"),
        )
        .values_list("pk", "client_id", "due_date", "had", "last")
        .order_by("pk")
    )
    due = []
    for pk, client_id, due_date, had, last in rows.iterator(chunk_size=5000):
        if pk in held:
            continue
        if last is not None and (today - timezone.localdate(last)).days < min_gap_days:
            continue
        days = (today - due_date).days
        for level in ordered:
            if level.name in had:
                continue
            if days >= level.after_days:
                due.append(
                    ReminderDue(invoice_id=pk, client_id=client_id, level=level.name, days_overdue=days)
                )
            break  # levels go in order: never a firm reminder before the friendly one
    return due


def invoice_reminders_propose(*, due: list[ReminderDue], task_ids: dict[int, str]) -> list[InvoiceReminder]:
    """Record that these reminders were drafted (by the task that drafts each): one insert."""
    now = clock.now()
    return InvoiceReminder.objects.bulk_create(
        [
            InvoiceReminder(
                invoice_id=item.invoice_id,
                level=item.level,
                days_overdue=item.days_overdue,
                task_id=task_ids.get(item.invoice_id),
                created_at=now,
            )
            for item in due
        ],
        ignore_conflicts=True,  # a level already drafted by a concurrent sweep stays as it is
    )


@transaction.atomic
def invoice_reminder_sending(*, invoice: Invoice, level: str) -> InvoiceReminder:
    """Approved and its email in the outbox (same transaction); sent once delivered."""
    reminder = InvoiceReminder.objects.select_for_update().get(invoice=invoice, level=level)
    reminder.status = InvoiceReminder.Status.SENDING
    reminder.save(update_fields=["status"])
    return reminder


@transaction.atomic
def invoice_reminder_sent(*, invoice: Invoice, level: str, at: dt.datetime | None = None) -> InvoiceReminder:
    """The reminder's email was delivered (`at`); called again after a crash, it changes nothing."""
    reminder = InvoiceReminder.objects.select_for_update().get(invoice=invoice, level=level)
    if reminder.status != InvoiceReminder.Status.SENT:
        reminder.status, reminder.sent_at = InvoiceReminder.Status.SENT, at or clock.now()
        reminder.save(update_fields=["status", "sent_at"])
    return reminder


@transaction.atomic
def invoice_reminder_cancel(*, invoice: Invoice, level: str, note: str) -> InvoiceReminder | None:
    reminder = InvoiceReminder.objects.select_for_update().filter(invoice=invoice, level=level).first()
    if reminder is not None and reminder.status == InvoiceReminder.Status.PROPOSED:
        reminder.status, reminder.note = InvoiceReminder.Status.CANCELLED, note
        reminder.save(update_fields=["status", "note"])
    return reminder


@transaction.atomic
def invoice_reminders_pause(*, invoice: Invoice, by: User, reason: str) -> Invoice:
    """Hold the reminders of an invoice (a client's question, dispute or word that they paid)."""
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    locked.reminders_paused, locked.reminders_pause_reason = True, reason.strip()[:2000]
    return _save(locked, by=by, update_fields=["reminders_paused", "reminders_pause_reason"])


@transaction.atomic
def invoice_reminders_resume(*, invoice: Invoice, by: User) -> Invoice:
    locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
    locked.reminders_paused, locked.reminders_pause_reason = False, ""
    return _save(locked, by=by, update_fields=["reminders_paused", "reminders_pause_reason"])
