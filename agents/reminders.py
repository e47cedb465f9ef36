"""The reminder writer: for each overdue invoice the sweep found due, the reminder of its level, written
from the level's action template, addressed to the invoice's own client and answered in the invoice's
thread. It only proposes `invoice.remind` actions; the ledger asks the operator and sends."""

from __future__ import annotations

from typing import Any

from django.template import Context, Template
from django.utils import timezone
from pydantic import BaseModel, Field

from agents.kernel import Agent, AgentContext, AgentResult, InferredField, ProposedAction, agent_register
from core import clock
from core import selectors as core_selectors

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


def _render(item: ReminderItem, context: dict[str, Any]) -> tuple[str, str]:
    template = core_selectors.action_template_get(key=item.template)
    subject, body = _fallback(item.level, item.final)
    if template is not None:
        subject, body = template.subject or subject, template.body or body
    rendered = Context(context, autoescape=False)
    return Template(subject).render(rendered).strip(), Template(body).render(rendered)


@agent_register
class ReminderWriter(Agent):
    name = "reminder_writer"
    version = "1"
    description = "Writes each due payment reminder from its level's template, to the invoice's own client."
    Input = RemindInput
    Output = RemindOutput

    def run(self, ctx: AgentContext, input: RemindInput) -> AgentResult:  # noqa: A002
        workspace = core_selectors.workspace_get()
        late_text = (getattr(workspace, "late_payment_text", "") or "").strip() or DEFAULT_LATE_TEXT
        actions, drafted, skipped = [], [], []
        for item in input.reminders:
            invoice = core_selectors.invoice_for_reminder(invoice_id=item.invoice_id)
            if invoice is None or invoice.status != "overdue" or invoice.reminders_paused:
                skipped.append(f"{item.invoice_id}: {item.level} (no longer overdue or paused)")
                continue
            to, name = core_selectors.invoice_reminder_recipients(invoice=invoice)
            if not to:
                skipped.append(f"{invoice.number}: {item.level} (the client has no address)")
                continue
            thread = core_selectors.invoice_thread(invoice=invoice)
            subject, body = _render(
                item,
                {
                    "invoice": invoice,
                    "client": invoice.client,
                    "contact": {"name": name},
                    "contact_name": name or invoice.client.name,
                    "days_overdue": item.days_overdue,
                    "late_payment_text": late_text,
                    "workspace": workspace,
                    "today": timezone.localdate(clock.now()),
                },
            )
            references = ""
            if thread is not None and thread.message_id:
                references = " ".join(part for part in (thread.references, f"<{thread.message_id}>") if part)
            actions.append(
                ProposedAction(
                    kind="invoice.remind",
                    payload={
                        "invoice_id": invoice.pk,
                        "level": item.level,
                        "to": [to],
                        "subject": subject,
                        "body": body,
                        "in_reply_to": f"<{thread.message_id}>"
                        if thread is not None and thread.message_id
                        else "",
                        "references": references,
                        "conversation_id": thread.conversation_id if thread is not None else None,
                    },
                    summary=f"{item.level.capitalize()} reminder: {invoice.number} to {invoice.client.name}, "
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
