"""Committers of a client's answer to a sent proposal: accepted (project active, first invoice drafted
and its sending asked for as a task of its own) or declined (the reason kept as a decision). The replies
to the client are their own `email.send` actions, so the operator can agree to the record change and
still edit or hold the words."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core import services as core_services
from core.models import Proposal
from ledger.commit.registry import RECORD, committer
from ledger.models import Action, Task


class ProposalAcceptPayload(BaseModel):
    proposal_id: int
    # The client's words, kept as a note on the project (a change they asked for with their yes).
    note: str = ""


@committer(
    "proposal.accept",
    effect=RECORD,
    irreversible_note="An accepted proposal stays accepted; cancel the project or void its invoice instead.",
)
def commit_proposal_accept(payload: ProposalAcceptPayload, action: Action, task: Task) -> dict[str, Any]:
    accepted = core_services.proposal_accept(
        proposal=Proposal.objects.get(pk=payload.proposal_id), by=None, note=payload.note
    )
    # The first invoice goes out as its own proposed action (issue + email with the PDF), asked for now:
    # agreeing to the record change is not agreeing to send a bill.
    from ledger.services.invoices import invoice_send_request  # the services import this registry

    follow_up = invoice_send_request(invoice=accepted.invoice, requested_by=task)
    return {
        "proposal": accepted.proposal.pk,
        "project": accepted.project.pk,
        "invoice": accepted.invoice.pk,
        "invoice_total": str(accepted.invoice.total),
        "invoice_send_task": str(follow_up.pk),
    }


class ProposalDeclinePayload(BaseModel):
    proposal_id: int
    reason: str = Field(default="", description="Why the client declined, kept as a decision.")


@committer(
    "proposal.decline",
    effect=RECORD,
    irreversible_note="A declined proposal stays declined; write a new proposal to try again.",
)
def commit_proposal_decline(payload: ProposalDeclinePayload, action: Action, task: Task) -> dict[str, Any]:
    decision = core_services.proposal_decline(
        proposal=Proposal.objects.get(pk=payload.proposal_id), by=None, reason=payload.reason
    )
    return {"proposal": payload.proposal_id, "decision": decision.pk}
