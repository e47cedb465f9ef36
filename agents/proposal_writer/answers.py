"""Answers to a sent proposal (a yes accepts it, a no declines it, each with a courteous reply) and the
reply to a request to talk."""

from __future__ import annotations

from decimal import Decimal

from agents.kernel import ProposedAction, Scope
from agents.proposal_writer.drafts import letter, proposed, reply, review
from agents.proposal_writer.schemas import WriteInput
from core import workspace_data


def acceptance(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    """A yes to a sent proposal: accept it (project active, first invoice drafted) and thank the client.
    The client's words travel as a note, so a small change asked with the yes is not lost."""
    read = input.read
    proposal = scope.proposal_answered(subject=read.subject)
    if proposal is None:
        return review(
            input, scope, why="An acceptance, but no sent proposal of this sender's client to accept."
        )
    deposit = workspace_data.workspace_terms()["deposit_percent"]
    first_invoice = (
        f"a {deposit.normalize():f} % deposit invoice" if Decimal("0") < deposit < 100 else "the invoice"
    )
    accept = proposed(
        input,
        kind="proposal.accept",
        payload={
            "proposal_id": proposal.pk,
            "note": f"{read.from_name or read.from_email} accepted “{proposal.title}”:\n"
            + read.new_text.strip(),
        },
        summary=f"Accept proposal “{proposal.title}” ({proposal.total} {proposal.currency}): project active, "
        f"{first_invoice} drafted",
        amount=proposal.total,
        currency=proposal.currency,
    )
    thanks = reply(
        input,
        template="proposal_accepted_reply",
        body=letter(
            read,
            f"thank you, I am glad we are working together on “{proposal.title}”. I have set the project up "
            f"and will send {first_invoice} shortly; I will be in touch about the first steps.",
        ),
        summary=f"Thank-you reply to {read.from_email} for accepting “{proposal.title}”",
    )
    return [accept, thanks]


def decline(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    """A no to a sent proposal: mark it declined (the reason kept as a decision) and answer courteously."""
    read = input.read
    proposal = scope.proposal_answered(subject=read.subject)
    if proposal is None:
        return review(input, scope, why="A decline, but no sent proposal of this sender's client to decline.")
    declined = proposed(
        input,
        kind="proposal.decline",
        payload={"proposal_id": proposal.pk, "reason": read.new_text.strip()[:2000]},
        summary=f"Mark proposal “{proposal.title}” declined",
    )
    courteous = reply(
        input,
        template="proposal_declined_reply",
        body=letter(
            read,
            "thank you for letting me know, and for considering me. If anything changes, or another "
            "project comes up, I would be glad to hear from you.",
        ),
        summary=f"Courteous reply to {read.from_email} on declining “{proposal.title}”",
    )
    return [declined, courteous]


def scheduling(input: WriteInput, scope: Scope) -> list[ProposedAction]:  # noqa: A002
    read = input.read
    body = letter(
        read,
        "thank you, I would be glad to talk. I will confirm a time that works shortly; if you have a "
        "preferred slot or a video link, send it and I will use it.",
    )
    return [reply(input, body=body, summary=f"Scheduling reply to {read.from_email}")]
