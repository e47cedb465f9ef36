"""Billing questions and payment notices: a reply that states only the sender's own client's invoices,
their reminders held, and a payment the client says they made proposed for recording."""

from __future__ import annotations

from decimal import Decimal

from agents.kernel import InferredField, ProposedAction, Scope
from agents.proposal_writer.drafts import letter, proposed, reply, review
from agents.proposal_writer.evidence import inferred_fields, mail_source
from agents.proposal_writer.schemas import WriteInput


def billing(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    read = input.read
    mentioned = scope.invoices_mentioned(text=f"{read.subject}\n{read.new_text}")
    if not scope.known:
        return review(input, scope, f"A billing question, but: {scope.reason}", mentioned.others)
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
    text = f"thank you for your message. {about}".removesuffix("\n")
    numbers = [invoice.number for invoice in mentioned.own]
    summary = f"Billing reply to {read.from_email}" + (f" about {', '.join(numbers)}" if numbers else "")
    if mentioned.others:
        summary += f" (the mail names {len(mentioned.others)} invoice(s) of another client)"
    return [
        *reminders_pause(input, scope, "the client asked about it"),
        reply(
            input,
            body=letter(read, text),
            summary=summary[:500],
            inferred=[
                *inferred_fields(input.intake),
                *(
                    InferredField(field=f"invoice {invoice.number}", value=invoice.status_label)
                    for invoice in mentioned.own
                ),
            ],
            source=mail_source(read, mentioned.others),
        ),
    ]


def reminders_pause(input: WriteInput, scope: Scope, why: str) -> list[ProposedAction]:  # noqa: A002
    """Hold the reminders of the client's own open invoices the mail names, until the operator looks."""
    read = input.read
    invoices = scope.open_invoices_named(numbers=list(input.intake.get("invoice_numbers") or []))
    if not invoices:
        return []
    return [
        proposed(
            input,
            kind="invoice.reminders_pause",
            payload={
                "invoice_ids": [invoice.pk for invoice in invoices],
                "reason": f"{why} ({read.subject})",
            },
            summary=f"Hold reminders of {', '.join(invoice.number for invoice in invoices)}: {why}",
            inferred=[],
        )
    ]


def payment_record(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
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
        proposed(
            input,
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
            amount=Decimal(payment["amount"]),
            currency=payment["currency"],
        )
    ]


def payment(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    """A payment notice: hold the reminders of the invoices it names, and propose recording the payment
    against the sender's own open invoices (the operator checks the bank), else ask the operator."""
    recorded = payment_record(input, scope)
    held = reminders_pause(input, scope, "the client says it is paid")
    if recorded:
        return [*held, *recorded]
    stated = input.intake.get("payment") or {}
    said = (
        f"{stated['amount']} {stated['currency']} paid on {stated['paid_on']}"
        if stated
        else "no amount stated"
    )
    numbers = ", ".join(input.intake.get("invoice_numbers") or []) or "no invoice named"
    why = f"Payment notice: {said}, for {numbers}; none of them an open invoice of this sender's client."
    return [*held, *review(input, scope, why=why)]
