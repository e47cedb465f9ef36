"""The committer of a payment reminder: the email goes to the outbox only if the invoice still needs it.

Between the sweep drafting a reminder and the operator approving it the invoice may have been paid,
voided, or paused by the client's question: then nothing is sent and the drafted level is cancelled with
the reason, so the invoice is never reminded after it was settled.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core import services as core_services
from core.models import Invoice, InvoiceReminder
from ledger.commit.email import EmailPayload, outbox_email_for
from ledger.commit.registry import EXTERNAL, INTERNAL, committer
from ledger.models import Action, OutboxEmail, Task


class InvoiceRemindPayload(EmailPayload):
    invoice_id: int
    level: str


def _why_not(invoice: Invoice, level: str) -> str:
    if invoice.status != Invoice.Status.OVERDUE:
        return f"the invoice is {invoice.get_status_display().lower()} now"
    if invoice.reminders_paused:
        return f"its reminders are paused: {invoice.reminders_pause_reason or 'by the operator'}"
    from ledger.reminders import reminders_held  # the sweep's module imports this package's registry

    if invoice.pk in reminders_held():
        return "the client wrote about it; the operator has not answered yet"
    reminder = invoice.reminders.filter(level=level).first()
    if reminder is not None and reminder.status != InvoiceReminder.Status.PROPOSED:
        return f"the {level} reminder is {reminder.get_status_display().lower()} already"
    return ""


def invoice_remind_delivered(payload: InvoiceRemindPayload, action: Action, email: OutboxEmail) -> None:
    """The reminder reached the mail server: it is sent, as of that moment (ADR 0014)."""
    reminder = InvoiceReminder.objects.filter(invoice_id=payload.invoice_id, level=payload.level).first()
    if reminder is not None and reminder.status == InvoiceReminder.Status.SENDING:
        core_services.invoice_reminder_sent(invoice=reminder.invoice, level=payload.level, at=email.sent_at)


@committer(
    "invoice.remind",
    effect=EXTERNAL,
    irreversible_note="A sent reminder cannot be unsent.",
    delivered=invoice_remind_delivered,
)
def commit_invoice_remind(payload: InvoiceRemindPayload, action: Action, task: Task) -> dict[str, Any]:
    invoice = Invoice.objects.select_for_update().get(pk=payload.invoice_id)
    why_not = _why_not(invoice, payload.level)
    if why_not:
        core_services.invoice_reminder_cancel(invoice=invoice, level=payload.level, note=why_not)
        return {"invoice": invoice.pk, "level": payload.level, "sent": False, "why": why_not}
    email = outbox_email_for(action, payload)
    if invoice.reminders.filter(level=payload.level).exists():
        core_services.invoice_reminder_sending(invoice=invoice, level=payload.level)
    return {"invoice": invoice.pk, "level": payload.level, "sent": True, "outbox_email": email.pk}


class RemindersPausePayload(BaseModel):
    invoice_ids: list[int] = Field(min_length=1)
    reason: str = Field(min_length=1)


@committer("invoice.reminders_pause", effect=INTERNAL, reversible=False)
def commit_invoice_reminders_pause(
    payload: RemindersPausePayload, action: Action, task: Task
) -> dict[str, Any]:
    """A client asked about, disputed or said they paid these invoices: their reminders wait for the
    operator. Holding mail back is safe to do at once; resuming is the operator's (admin action)."""
    paused = []
    for invoice in Invoice.objects.filter(pk__in=payload.invoice_ids).order_by("pk"):
        core_services.invoice_reminders_pause(invoice=invoice, by=None, reason=payload.reason)
        paused.append(invoice.number)
    return {"paused": paused}
