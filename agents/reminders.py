"""The reminder writer: for each overdue invoice the sweep found due, the reminder of its level, written
from the level's action template, addressed to the invoice's own client and answered in the invoice's
thread. It only proposes `invoice.remind` actions; the ledger asks the operator and sends."""

from __future__ import annotations

from django.utils import timezone
from pydantic import BaseModel, Field

from agents.invoice_sender import invoice_email
from agents.kernel import (
    Agent,
    AgentContext,
    AgentResult,
    InferredField,
    ProposedAction,
    agent_register,
)
from agents.mail import template_text
from core import clock, workspace_data

_LEVEL_WORDS = {
    "friendly": "A friendly reminder",
    "firm": "A second reminder",
    "final": "A final reminder",
}
DEFAULT_LATE_TEXT = (
    "Under the terms of the invoice, late payment may incur statutory interest and a recovery fee."
)


class ReminderItem(BaseModel):
    invoice_id: int
    level: str
    template: str = "payment_reminder"
    days_overdue: int = Field(ge=0)
    final: bool = False


class RemindInput(BaseModel):
    client_id: int  # the client whose invoices these are: the work's scope (one client a task)
    reminders: list[ReminderItem] = Field(min_length=1)


class RemindOutput(BaseModel):
    drafted: list[str]  # "NW-2026-0042: friendly"
    skipped: list[str] = []


def _fallback(level: str, final: bool) -> tuple[str, str]:
    opening = _LEVEL_WORDS.get(level, "A reminder")
    subject = (
        "Final reminder: invoice {{ invoice.number }}"
        if final
        else "Reminder: invoice {{ invoice.number }} is overdue"
    )
    body = (
        "Hi {{ contact_name }},\n\n"
        f"{opening} that invoice {{{{ invoice.number }}}} of {{{{ invoice.total }}}} "
        '{{ invoice.currency }}, due on {{ invoice.due_date|date:"j F Y" }}, is {{ days_overdue }} days '
        "overdue and I have not received the payment yet.\n\n"
        + ("{{ late_payment_text }}\n\n" if final else "")
        + "If it has already been paid, thank you, and please ignore this message.\n\n"
        "Best regards,\n{{ workspace.operator_name }}\n{{ workspace.name }}\n"
    )
    return subject, body


@agent_register
class ReminderWriter(Agent):
    name = "reminder_writer"
    version = "1"
    description = "Writes each due payment reminder from its level's template, to the invoice's own client."

    def run(self, ctx: AgentContext, input: RemindInput) -> AgentResult[RemindOutput]:  # noqa: A002
        scope = ctx.scope_of_client(input.client_id, "Reminders are written")
        workspace = workspace_data.workspace_identity()
        late_text = workspace_data.workspace_terms()["late_payment_text"] or DEFAULT_LATE_TEXT
        actions, drafted, skipped = [], [], []
        for item in input.reminders:
            invoice = scope.invoice_for_mail(invoice_id=item.invoice_id)
            if invoice is None or invoice.status != "overdue" or invoice.reminders_paused:
                skipped.append(
                    f"{item.invoice_id}: {item.level} (not this client's, no longer overdue or paused)"
                )
                continue
            if not invoice.to:
                skipped.append(f"{invoice.number}: {item.level} (the client has no address)")
                continue
            fallback_subject, fallback_body = _fallback(item.level, item.final)
            subject, body = template_text(
                key=item.template,
                fallback_subject=fallback_subject,
                fallback_body=fallback_body,
                context={
                    "invoice": invoice,
                    "client": {"name": invoice.client_name},
                    "contact": {"name": invoice.contact_name},
                    "contact_name": invoice.contact_name or invoice.client_name,
                    "days_overdue": item.days_overdue,
                    "late_payment_text": late_text,
                    "workspace": workspace,
                    "today": timezone.localdate(clock.now()),
                },
            )
            actions.append(
                ProposedAction(
                    kind="invoice.remind",
                    payload={
                        "invoice_id": invoice.pk,
                        "level": item.level,
                        **invoice_email(invoice, subject=subject, body=body),
                    },
                    summary=f"{item.level.capitalize()} reminder: {invoice.number} to {invoice.client_name}, "
                    f"{item.days_overdue} days overdue",
                    confidence=0.9,
                    amount=invoice.total,
                    currency=invoice.currency,
                    inferred=[
                        InferredField(field="days overdue", value=item.days_overdue, confidence=1.0),
                        InferredField(field="level", value=item.level, confidence=1.0),
                    ],
                )
            )
            drafted.append(f"{invoice.number}: {item.level}")
        return AgentResult(output=RemindOutput(drafted=drafted, skipped=skipped), actions=actions)
