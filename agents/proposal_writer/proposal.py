"""A priced request becomes a proposal and its cover email; a change request becomes a brief for the
operator."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from agents.kernel import ProposedAction, Scope
from agents.proposal_writer.drafts import proposed, render, reply_subject, review, thread
from agents.proposal_writer.evidence import inferred_fields, mail_source
from agents.proposal_writer.schemas import WriteInput
from agents.summariser import extractive_summary
from core import workspace_data

PROPOSAL_TEMPLATE = "proposal_cover"
VALID_DAYS = 30


def proposal(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    read, intake, estimate = input.read, input.intake, input.estimate
    if estimate.skipped or not estimate.lines or not estimate.currency:
        return review(input, scope, "The estimate found nothing to price in one currency.")
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
        "workspace": workspace_data.workspace_identity(),
    }
    lines_text = "\n".join(
        f"- {line.description}: {line.quantity} {line.unit} × {line.unit_price} = {line.amount} "
        f"{estimate.currency}"
        for line in estimate.lines
    )
    _, body = render(PROPOSAL_TEMPLATE, context, "", "")
    if not body.strip():
        body = f"Hello,\n\nthank you for your message. Here is my proposal, {title}:"
    body = body.rstrip() + f"\n\n{lines_text}\nTotal: {estimate.total} {estimate.currency}\n"
    confidence = min(input.route.confidence, estimate.confidence)
    summary = f"Proposal {estimate.total} {estimate.currency} to {read.from_email}: {title}"
    if estimate.over_budget:
        summary = f"{summary} (over the stated budget)"
    return [
        proposed(
            input,
            kind="proposal.send",
            payload={
                **thread(read),
                "subject": reply_subject(read.subject),
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
            source=mail_source(read, estimate.references),
        )
    ]


def change(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
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
        proposed(
            input,
            kind="note.create",
            payload={"text": "\n".join(lines), "client_id": read.client_id},
            summary=f"Change brief: {read.subject}"[:500],
            amount=estimate.total if estimate.lines else None,
            currency=estimate.currency if estimate.lines else "",
            inferred=inferred_fields(input.intake, estimate if estimate.lines else None),
        )
    ]
