"""A client's answer to a sent proposal.

Yes: the proposal is accepted, its project made active with a deliverable per line, and the first
invoice drafted from its lines — whole, or the workspace's deposit share (30 % now, the rest on
delivery) with one deposit line per tax rate so the VAT stays right. No: the proposal is declined and
the reason kept as a decision. Both are one transaction; the ledger calls them once the operator agrees.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from core.currencies import money_round
from core.models import Decision, Invoice, Project, Proposal, Workspace
from core.services._common import User, _save
from core.services.clients import deliverable_create, project_create, project_update
from core.services.conversations import decision_record, note_create
from core.services.lines import LineData
from core.services.money import invoice_create, proposal_transition

# Units whose quantity is a number of hours: a deliverable's estimate.
_HOUR_UNITS = frozenset({"hour", "hours", "hr", "hrs", "h", "stunde", "stunden", "heure", "heures", "timme"})


@dataclass(frozen=True)
class Acceptance:
    proposal: Proposal
    project: Project
    invoice: Invoice


def deposit_lines(*, proposal: Proposal, percent: Decimal) -> list[LineData]:
    """The proposal's lines, or with a deposit share one line per tax rate: `percent` of the amount at
    that rate, so the invoice's VAT per rate is the same share of the proposal's."""
    lines = list(proposal.lines.order_by("position", "pk"))
    if not percent or percent >= 100:
        return [LineData.of(line) for line in lines]
    by_rate: dict[Decimal, Decimal] = defaultdict(Decimal)
    for line in lines:
        by_rate[line.tax_rate] += line.amount
    share = f"{percent.normalize():f} %"
    return [
        LineData(
            description=f"Deposit {share} of “{proposal.title}”"
            + (f" ({rate.normalize():f} % VAT)" if len(by_rate) > 1 else ""),
            quantity=Decimal("1"),
            unit_price=money_round(amount * percent / 100),
            unit="",
            tax_rate=rate,
        )
        for rate, amount in sorted(by_rate.items())
    ]


def _project_for(proposal: Proposal, *, by: User) -> Project:
    """The proposal's project, made active (a new one named after the proposal when it has none), with
    a deliverable for each line it does not have yet."""
    project = proposal.project
    if project is None:
        project = project_create(
            client=proposal.client,
            by=by,
            name=proposal.title[:200],
            currency=proposal.currency,
            budget=proposal.total,
            status=Project.Status.ACTIVE,
        )
        proposal.project = project
        _save(proposal, by=by, update_fields=["project"])  # with a history row, like every change
    elif project.status in (Project.Status.PROPOSED, Project.Status.ON_HOLD):
        project_update(project=project, by=by, status=Project.Status.ACTIVE)
    existing = set(project.deliverables.values_list("title", flat=True))
    for line in proposal.lines.order_by("position", "pk"):
        title = line.description[:200]
        if title in existing:
            continue
        is_hours = (line.unit or "").strip().lower() in _HOUR_UNITS
        hours = line.quantity.quantize(Decimal("0.01")) if is_hours else None
        deliverable_create(project=project, by=by, title=title, estimate_hours=hours)
        existing.add(title)
    return project


@transaction.atomic
def proposal_accept(
    *, proposal: Proposal, by: User, note: str = "", at: dt.datetime | None = None
) -> Acceptance:
    """The client said yes: accepted, project active, first invoice drafted (whole or the deposit)."""
    proposal = proposal_transition(proposal=proposal, to=Proposal.Status.ACCEPTED, by=by, at=at)
    project = _project_for(proposal, by=by)
    workspace = Workspace.objects.filter(pk=1).first()
    percent = workspace.deposit_percent if workspace is not None else Decimal("0")
    deposit = Decimal("0") < percent < Decimal("100")
    invoice = invoice_create(
        client=proposal.client,
        by=by,
        lines=deposit_lines(proposal=proposal, percent=percent),
        currency=proposal.currency,
        project=project,
        proposal=proposal,
        notes=(
            f"Deposit of {percent.normalize():f} % for the accepted proposal “{proposal.title}”; "
            "the rest is invoiced on delivery."
            if deposit
            else f"For the accepted proposal “{proposal.title}”."
        ),
    )
    if note.strip():
        note_create(by=by, text=note.strip(), client=proposal.client, project=project)
    return Acceptance(proposal=proposal, project=project, invoice=invoice)


@transaction.atomic
def proposal_decline(
    *, proposal: Proposal, by: User, reason: str = "", at: dt.datetime | None = None
) -> Decision:
    """The client said no: declined, and why kept as a decision about the proposal."""
    proposal = proposal_transition(proposal=proposal, to=Proposal.Status.DECLINED, by=by, at=at)
    return decision_record(
        by=by,
        title=f"Proposal declined: {proposal.title}"[:300],
        rationale=reason.strip() or "The client declined without a reason.",
        subject=proposal,
        client=proposal.client,
        project=proposal.project,
        decided_at=at,
    )
