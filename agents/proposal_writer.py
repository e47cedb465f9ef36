"""The proposal writer: the estimate and what memory knows of the client become a proposal and its cover
email, as a reply in the same thread. On the other routes it drafts what the operator needs: a change
brief (summary and change estimate), a reply to billing or scheduling mail, or a review item.

Everything inferred travels with the action as fields with their source span and confidence, so the
approval page can show the operator where each value came from. The mail's text is data: nothing in
it is followed, only read for the fields.

Records are read only through the step's client scope (`ctx.scope`): a reply states the sender's own
client's invoices and nothing else. Numbers of another client's invoices are answered like unknown
numbers, and shown to the operator beside the draft as links with figures (`source["other_clients"]`);
a sender the workspace does not know (or who writes in another client's thread) gets no record data:
their billing mail goes to the operator's review (docs/adr/0013-client-scope.md).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.template import Context, Template
from pydantic import BaseModel

from agents.coordinator import Route
from agents.estimator import Estimate
from agents.intake import CONTRACT_FIELDS, MailRead
from agents.kernel import (
    Agent,
    AgentContext,
    AgentResult,
    InferredField,
    NeedsReview,
    ProposedAction,
    Scope,
    agent_register,
)
from agents.summariser import extractive_summary
from core import workspace_data

PROPOSAL_TEMPLATE = "proposal_cover"
VALID_DAYS = 30


class WriteInput(BaseModel):
    read: MailRead
    intake: dict[str, Any]
    route: Route
    estimate: Estimate


class Written(BaseModel):
    route: str
    actions: list[str]
    summary: str = ""


def _reply_subject(subject: str) -> str:
    subject = (subject or "").strip() or "your message"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def _render(template_key: str, context: dict[str, Any], fallback_subject: str, fallback_body: str):
    template = workspace_data.action_template_get(key=template_key)
    if template is None:
        return fallback_subject, fallback_body
    rendered = Context(context, autoescape=False)  # plain-text mail: "Vos & Partners" stays as written
    subject = Template(template.subject).render(rendered).strip() or fallback_subject
    return subject, Template(template.body).render(rendered)


def _workspace() -> dict[str, str]:
    return workspace_data.workspace_identity()


def _source(read: MailRead, other_clients: list[Any] = ()) -> dict[str, Any]:
    # Other clients' records as links with figures, for the approval page only (the committers never
    # read the source; nothing here reaches the draft, memory or a prompt).
    refs = [ref if isinstance(ref, dict) else ref.as_dict() for ref in other_clients]
    refs = {"other_clients": refs} if refs else {}
    return refs | {
        "type": "message",
        "id": read.message_pk,
        "conversation_id": read.conversation_id,
        "text": read.new_text,
        "subject": read.subject,
        "from": read.from_email,
        "received_at": read.received_at,
        "untrusted": True,
    }


def inferred_fields(intake: dict[str, Any], estimate: Estimate | None = None) -> list[InferredField]:
    """The intake's fields with their evidence, and the estimate's lines with where quantities came from."""
    evidence = intake.get("evidence") or {}
    fields = []
    for name in ("intent", "sender_name", "company", "budget", "deadline", "services"):
        found = evidence.get(name) or {}
        # Spans are highlighted in the mail's new text; one read from the subject or headers is shown
        # with its snippet only.
        span = found.get("span") if found.get("origin", "new_text") == "new_text" else None
        fields.append(
            InferredField(
                field=name,
                value=intake.get(name),
                source=found.get("source") or "",
                span=tuple(span) if isinstance(span, list | tuple) and len(span) == 2 else None,
                confidence=found.get("confidence"),
            )
        )
    for line in estimate.lines if estimate else []:
        fields.append(
            InferredField(
                field=f"line: {line.description}",
                value=f"{line.quantity} {line.unit} × {line.unit_price} = {line.amount}",
                source=line.quantity_source,
                confidence=estimate.confidence,
            )
        )
    if estimate and estimate.budget_note:
        fields.append(
            InferredField(field="budget check", value=estimate.budget_note, confidence=estimate.confidence)
        )
    return fields


def _thread(read: MailRead) -> dict[str, Any]:
    return {
        "to": [read.from_email],
        "in_reply_to": read.message_id,
        "references": read.references,
        "conversation_id": read.conversation_id,
    }


def _proposal(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    read, intake, estimate = input.read, input.intake, input.estimate
    if estimate.skipped or not estimate.lines or not estimate.currency:
        return _review(input, scope, "The estimate found nothing to price in one currency.")
    who = intake.get("company") or intake.get("sender_name") or read.from_email
    names = " and ".join(line.description for line in estimate.lines)
    title = f"{names} for {who}"[:200]
    valid_until = dt.date.today() + dt.timedelta(days=VALID_DAYS)
    context = {
        "proposal": {
            "title": title,
            "total": estimate.total,
            "currency": estimate.currency,
            "tax_total": Decimal("0"),
            "valid_until": valid_until,
        },
        "client": {"name": who},
        "contact": {"name": intake.get("sender_name") or ""},
        "workspace": _workspace(),
    }
    lines_text = "\n".join(
        f"- {line.description}: {line.quantity} {line.unit} × {line.unit_price} = {line.amount} "
        f"{estimate.currency}"
        for line in estimate.lines
    )
    _, body = _render(PROPOSAL_TEMPLATE, context, "", "")
    if not body.strip():
        body = f"Hello,\n\nthank you for your message. Here is my proposal, {title}:"
    body = body.rstrip() + f"\n\n{lines_text}\nTotal: {estimate.total} {estimate.currency}\n"
    confidence = min(input.route.confidence, estimate.confidence)
    summary = f"Proposal {estimate.total} {estimate.currency} to {read.from_email}: {title}"
    if estimate.over_budget:
        summary = f"{summary} (over the stated budget)"
    return [
        ProposedAction(
            kind="proposal.send",
            payload={
                **_thread(read),
                "subject": _reply_subject(read.subject),
                "body": body,
                "client_id": read.client_id,
                "sender_name": intake.get("sender_name") or "",
                "company": intake.get("company") or "",
                "title": title,
                "currency": estimate.currency,
                "lines": [
                    {
                        "service_key": line.service_key,
                        "description": line.description,
                        "quantity": str(line.quantity),
                        "unit": line.unit,
                        "unit_price": str(line.unit_price),
                    }
                    for line in estimate.lines
                ],
                "valid_days": VALID_DAYS,
            },
            summary=summary[:500],
            confidence=round(confidence, 2),
            amount=estimate.total,
            currency=estimate.currency,
            inferred=inferred_fields(intake, estimate),
            source=_source(read, estimate.references),
        )
    ]


def _change(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    # The brief quotes only the mail and the catalogue's prices, and stays with the operator (a note, never
    # sent): a stranger's change request gets one too, under no client.
    read, estimate = input.read, input.estimate
    summary = extractive_summary(text=read.new_text, max_sentences=3).summary
    lines = [f"Change requested by {read.from_email} ({read.subject}):", "", summary]
    if estimate.lines:
        lines += ["", f"Change estimate: {estimate.total} {estimate.currency}"]
        lines += [
            f"- {item.description}: {item.quantity} {item.unit} = {item.amount}" for item in estimate.lines
        ]
    if input.intake.get("deadline"):
        lines.append(f"New date mentioned: {input.intake['deadline']}")
    return [
        ProposedAction(
            kind="note.create",
            payload={"text": "\n".join(lines), "client_id": read.client_id},
            summary=f"Change brief: {read.subject}"[:500],
            confidence=input.route.confidence,
            amount=estimate.total if estimate.lines else None,
            currency=estimate.currency if estimate.lines else "",
            inferred=inferred_fields(input.intake, estimate if estimate.lines else None),
            source=_source(read),
        )
    ]


def _billing(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    read = input.read
    mentioned = scope.invoices_mentioned(text=f"{read.subject}\n{read.new_text}")
    if not scope.known:
        return _review(input, scope, f"A billing question, but: {scope.reason}", mentioned.others)
    workspace = _workspace()
    about = ""
    if mentioned.own:
        listed = "\n".join(
            f"- {invoice.number}: {invoice.total} {invoice.currency}, {invoice.status_label.lower()}"
            + (f", due {invoice.due_date:%d %B %Y}" if invoice.due_date else "")
            for invoice in mentioned.own
        )
        about = f"Here is what I have on file:\n\n{listed}\n"
    if mentioned.unmatched:
        # Unknown numbers and another client's read the same, and none is repeated: the reply tells a
        # guesser nothing, and no other client's number stands in a mail to this one.
        other = "other " if mentioned.named else ""
        numbers = "number" if len(mentioned.unmatched) == 1 else "numbers"
        about += (
            f"\nI could not find the {other}invoice {numbers} you mention among your invoices; could you "
            "check it?\n"
        )
    if not about:
        about = "I could not match your message to an invoice yet; could you send me its number?\n"
    body = (
        f"Hello {read.from_name or ''},\n\nthank you for your message. {about}\n"
        f"Best regards,\n{workspace['operator_name']}\n{workspace['name']}\n"
    )
    numbers = [invoice.number for invoice in mentioned.own]
    summary = f"Billing reply to {read.from_email}" + (f" about {', '.join(numbers)}" if numbers else "")
    if mentioned.others:
        summary += f" (the mail names {len(mentioned.others)} invoice(s) of another client)"
    return [
        *_reminders_pause(input, scope, "the client asked about it"),
        ProposedAction(
            kind="email.send",
            payload={**_thread(read), "subject": _reply_subject(read.subject), "body": body},
            summary=summary[:500],
            confidence=input.route.confidence,
            inferred=[
                *inferred_fields(input.intake),
                *(
                    InferredField(field=f"invoice {invoice.number}", value=invoice.status_label)
                    for invoice in mentioned.own
                ),
            ],
            source=_source(read, mentioned.others),
        ),
    ]


def _scheduling(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    read = input.read
    workspace = _workspace()
    body = (
        f"Hello {read.from_name or ''},\n\nthank you, I would be glad to talk. I will confirm a time that "
        "works shortly; if you have a preferred slot or a video link, send it and I will use it.\n\n"
        f"Best regards,\n{workspace['operator_name']}\n{workspace['name']}\n"
    )
    return [
        ProposedAction(
            kind="email.send",
            payload={**_thread(read), "subject": _reply_subject(read.subject), "body": body},
            summary=f"Scheduling reply to {read.from_email}",
            confidence=input.route.confidence,
            inferred=inferred_fields(input.intake),
            source=_source(read),
        )
    ]


def _review(
    input: WriteInput,  # noqa: A002
    scope: Scope | None = None,
    why: str = "",
    other_clients: list[Any] = (),
) -> list[ProposedAction]:
    read = input.read
    reasons = [*input.route.reasons, *([why] if why else [])]
    return [
        ProposedAction(
            kind="intake.review",
            payload={
                "message_id": read.message_pk,
                "client_id": read.client_id,
                "title": f"Reviewed mail from {read.from_email}: {read.subject}"[:300],
                "found": {key: input.intake.get(key) for key in CONTRACT_FIELDS if key != "sender_email"},
                "reasons": reasons,
            },
            summary=f"Review: {read.subject or read.from_email}"[:500],
            confidence=input.route.confidence,
            inferred=inferred_fields(input.intake),
            source=_source(read, other_clients),
        )
    ]


def _answer_reply(
    input: WriteInput, *, template: str, subject: str, body: str, summary: str
) -> ProposedAction:  # noqa: A002
    read = input.read
    workspace = _workspace()
    context = {"client_name": read.from_name or "", "workspace": workspace}
    subject, text = _render(template, context, subject, body)
    return ProposedAction(
        kind="email.send",
        payload={**_thread(read), "subject": subject, "body": text},
        summary=summary,
        confidence=input.route.confidence,
        inferred=inferred_fields(input.intake),
        source=_source(read),
    )


def _acceptance(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    """A yes to a sent proposal: accept it (project active, first invoice drafted) and thank the client.
    The client's words travel as a note, so a small change asked with the yes is not lost."""
    read = input.read
    proposal = scope.proposal_answered(subject=read.subject)
    if proposal is None:
        return _review(
            input, scope, why="An acceptance, but no sent proposal of this sender's client to accept."
        )
    deposit = workspace_data.workspace_terms()["deposit_percent"]
    first_invoice = (
        f"a {deposit.normalize():f} % deposit invoice" if Decimal("0") < deposit < 100 else "the invoice"
    )
    name = _workspace()
    accept = ProposedAction(
        kind="proposal.accept",
        payload={
            "proposal_id": proposal.pk,
            "note": f"{read.from_name or read.from_email} accepted “{proposal.title}”:\n"
            + read.new_text.strip(),
        },
        summary=f"Accept proposal “{proposal.title}” ({proposal.total} {proposal.currency}): project active, "
        f"{first_invoice} drafted",
        confidence=input.route.confidence,
        amount=proposal.total,
        currency=proposal.currency,
        inferred=inferred_fields(input.intake),
        source=_source(read),
    )
    thanks = _answer_reply(
        input,
        template="proposal_accepted_reply",
        subject=_reply_subject(read.subject),
        body=(
            f"Hello {read.from_name or ''},\n\nthank you, I am glad we are working together on "
            f"“{proposal.title}”. I have set the project up and will send {first_invoice} shortly; "
            "I will be in touch about the first steps.\n\n"
            f"Best regards,\n{name['operator_name']}\n{name['name']}\n"
        ),
        summary=f"Thank-you reply to {read.from_email} for accepting “{proposal.title}”",
    )
    return [accept, thanks]


def _decline(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    """A no to a sent proposal: mark it declined (the reason kept as a decision) and answer courteously."""
    read = input.read
    proposal = scope.proposal_answered(subject=read.subject)
    if proposal is None:
        return _review(
            input, scope, why="A decline, but no sent proposal of this sender's client to decline."
        )
    name = _workspace()
    decline = ProposedAction(
        kind="proposal.decline",
        payload={"proposal_id": proposal.pk, "reason": read.new_text.strip()[:2000]},
        summary=f"Mark proposal “{proposal.title}” declined",
        confidence=input.route.confidence,
        inferred=inferred_fields(input.intake),
        source=_source(read),
    )
    reply = _answer_reply(
        input,
        template="proposal_declined_reply",
        subject=_reply_subject(read.subject),
        body=(
            f"Hello {read.from_name or ''},\n\nthank you for letting me know, and for considering me. "
            "If anything changes, or another project comes up, I would be glad to hear from you.\n\n"
            f"Best regards,\n{name['operator_name']}\n{name['name']}\n"
        ),
        summary=f"Courteous reply to {read.from_email} on declining “{proposal.title}”",
    )
    return [decline, reply]


def _reminders_pause(input: WriteInput, scope: Scope, why: str) -> list[ProposedAction]:  # noqa: A002
    """Hold the reminders of the client's own open invoices the mail names, until the operator looks."""
    read = input.read
    invoices = scope.open_invoices_named(numbers=list(input.intake.get("invoice_numbers") or []))
    if not invoices:
        return []
    return [
        ProposedAction(
            kind="invoice.reminders_pause",
            payload={
                "invoice_ids": [invoice.pk for invoice in invoices],
                "reason": f"{why} ({read.subject})",
            },
            summary=f"Hold reminders of {', '.join(invoice.number for invoice in invoices)}: {why}",
            confidence=input.route.confidence,
            source=_source(read),
        )
    ]


def _payment_record(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    """The payment a client says they made, against their own open invoices it names, proposed as the
    same `payment.record` a bank credit would be (money: it always waits for the operator, who checks
    it against the bank). Another client's invoice numbers match nothing."""
    read = input.read
    payment = input.intake.get("payment") or {}
    invoices = [
        invoice
        for invoice in scope.open_invoices_named(numbers=list(input.intake.get("invoice_numbers") or []))
        if not payment or invoice.currency == payment.get("currency")
    ]
    if not payment or not invoices:
        return []
    left = Decimal(payment["amount"])
    allocations = []
    for invoice in invoices:
        share = min(left, invoice.open_amount)
        if share > 0:
            allocations.append({"invoice_id": invoice.pk, "number": invoice.number, "amount": str(share)})
            left -= share
    numbers = ", ".join(item["number"] for item in allocations)
    return [
        ProposedAction(
            kind="payment.record",
            payload={
                "client_id": read.client_id,
                "amount": payment["amount"],
                "currency": payment["currency"],
                "received_on": payment["paid_on"],
                "method": "bank_transfer",
                "reference": read.subject[:300],
                "payer_name": (read.from_name or "")[:200],
                "source": "email",
                "allocations": allocations,
                "credit_left": str(left),
            },
            summary=f"Record {payment['amount']} {payment['currency']} the client says they paid on "
            f"{payment['paid_on']} for {numbers} — check the bank first"[:500],
            confidence=input.route.confidence,
            amount=Decimal(payment["amount"]),
            currency=payment["currency"],
            inferred=inferred_fields(input.intake),
            source=_source(read),
        )
    ]


def _payment(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    """A payment notice: hold the reminders of the invoices it names, and propose recording the payment
    against the sender's own open invoices (the operator checks the bank), else ask the operator."""
    recorded = _payment_record(input, scope)
    held = _reminders_pause(input, scope, "the client says it is paid")
    if recorded:
        return [*held, *recorded]
    payment = input.intake.get("payment") or {}
    said = (
        f"{payment['amount']} {payment['currency']} paid on {payment['paid_on']}"
        if payment
        else "no amount stated"
    )
    numbers = ", ".join(input.intake.get("invoice_numbers") or []) or "no invoice named"
    why = f"Payment notice: {said}, for {numbers}; none of them an open invoice of this sender's client."
    return [*held, *_review(input, scope, why=why)]


ROUTES = {
    "proposal": _proposal,
    "payment": _payment,
    "acceptance": _acceptance,
    "decline": _decline,
    "change": _change,
    "billing": _billing,
    "scheduling": _scheduling,
    "review": _review,
}


@agent_register
class ProposalWriter(Agent):
    name = "proposal_writer"
    version = "1"
    description = "Writes the proposal and cover reply, a change brief, a draft reply, or a review item."
    Input = WriteInput
    Output = Written

    def run(self, ctx: AgentContext, input: WriteInput) -> AgentResult:  # noqa: A002
        if ctx.scope is None:
            raise NeedsReview("The proposal writer runs only in work started by a message (no client scope).")
        write = ROUTES.get(input.route.route)
        actions = write(input, ctx.scope) if write else []
        return AgentResult(
            output=Written(
                route=input.route.route,
                actions=[action.kind for action in actions],
                summary="; ".join(input.route.reasons),
            ),
            actions=actions,
        )
