"""The invoice sender: writes the email that carries an invoice to its own client — from the `invoice_send`
action template, answered in the client's thread about the invoice (or its proposal) — and proposes one
`invoice.send` action. It reads the invoice through the client scope only and writes nothing: the
committer issues a draft (its gap-free number), attaches the frozen PDF/A-3 and puts the email in the
outbox once the operator (or a policy) agreed."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from pydantic import BaseModel

from agents.kernel import (
    Agent,
    AgentContext,
    AgentResult,
    InferredField,
    NeedsReview,
    ProposedAction,
    agent_register,
    workflow_one_step,
)
from agents.mail import template_text, thread_headers
from core import clock, workspace_data

TEMPLATE_KEY = "invoice_send"
_FALLBACK_SUBJECT = "Invoice {{ invoice.number }}{% if proposal.title %}: {{ proposal.title }}{% endif %}"
_FALLBACK_BODY = (
    "Hi {{ contact.name|default:client.name }},\n\n"
    "Please find attached invoice {{ invoice.number }} of {{ invoice.total }} {{ invoice.currency }}, "
    'payable by {{ invoice.due_date|date:"j F Y" }}. Please quote the invoice number as the payment '
    "reference.\n\nBest regards,\n{{ workspace.operator_name }}\n{{ workspace.name }}\n"
)
SENDABLE = ("draft", "approved", "sent", "overdue")


class SendInput(BaseModel):
    client_id: int  # the invoice's client: the work's scope
    invoice_id: int


class SendOutput(BaseModel):
    drafted: str  # "NW-2026-0043 to ana@client.example"


def invoice_email(invoice: Any, *, subject: str, body: str) -> dict[str, Any]:
    """The email fields (ledger.commit.EmailPayload) of a mail about `invoice` (a client scope's
    `invoice_for_mail`) to its client: to the invoice's address, answering in its thread, and recorded in
    that conversation once sent. The invoice and its reminders go out the same way."""
    in_reply_to, references = thread_headers(
        message_id=invoice.thread_message_id, references=invoice.thread_references
    )
    return {
        "to": [invoice.to],
        "subject": subject,
        "body": body,
        "in_reply_to": in_reply_to,
        "references": references,
        "conversation_id": invoice.thread_conversation_id,
    }


@agent_register
class InvoiceSender(Agent):
    name = "invoice_sender"
    version = "1"
    description = "Writes the email that sends an invoice (PDF attached) to the invoice's own client."

    def run(self, ctx: AgentContext, input: SendInput) -> AgentResult[SendOutput]:  # noqa: A002
        scope = ctx.scope_of_client(input.client_id, "An invoice is sent")
        invoice = scope.invoice_for_mail(invoice_id=input.invoice_id)
        if invoice is None:
            raise NeedsReview(f"Invoice {input.invoice_id} is not this client's.")
        if invoice.status not in SENDABLE:
            raise NeedsReview(f"Invoice {invoice.number or invoice.pk} is {invoice.status}: it is not sent.")
        if not invoice.to:
            raise NeedsReview(f"{invoice.client_name} has no email address to send the invoice to.")
        number = invoice.number or invoice.number_expected
        subject, body = template_text(
            key=TEMPLATE_KEY,
            fallback_subject=_FALLBACK_SUBJECT,
            fallback_body=_FALLBACK_BODY,
            context={
                "invoice": {
                    "number": number,
                    "total": invoice.total,
                    "currency": invoice.currency,
                    "issue_date": invoice.issue_date or timezone.localdate(clock.now()),
                    "due_date": invoice.due_date,
                },
                "client": {"name": invoice.client_name},
                "contact": {"name": invoice.contact_name},
                "proposal": {"title": invoice.proposal_title},
                "workspace": workspace_data.workspace_identity(),
            },
        )
        first = invoice.status == "draft"
        return AgentResult(
            output=SendOutput(drafted=f"{number} to {invoice.to}"),
            actions=[
                ProposedAction(
                    kind="invoice.send",
                    payload={
                        "invoice_id": invoice.pk,
                        "number_expected": "" if invoice.number else number,
                        "due_date_expected": invoice.due_date.isoformat() if invoice.due_date else "",
                        **invoice_email(invoice, subject=subject, body=body),
                    },
                    summary=(
                        f"{'Issue and send' if first else 'Send'} invoice {number} "
                        f"({invoice.total} {invoice.currency}) to {invoice.client_name}"
                    ),
                    confidence=0.95,
                    amount=invoice.total,
                    currency=invoice.currency,
                    inferred=[
                        InferredField(
                            field="number", value=number, confidence=1.0 if invoice.number else 0.9
                        ),
                        InferredField(field="recipient", value=invoice.to, confidence=1.0),
                    ],
                )
            ],
        )


INVOICE_SEND = workflow_one_step(
    name="invoice.send",
    step="write",
    agent=InvoiceSender,
    description="Issue (if a draft) and email an invoice with its PDF to its client, for approval.",
    scope_client_key="client_id",
)
