"""Proposals: drafts, their lines, and their lifecycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core import clock
from core.memory.capture import memory_capture_request
from core.models import Client, Proposal, ProposalLine
from core.services._common import User, _apply, _check_project_belongs, _currency_or_default, _save
from core.services.deletion import _delete
from core.services.lines import LineData, _line_delete, _line_save, _lines_replace

PROPOSAL_FIELDS = ("title", "currency", "valid_until", "cover_letter", "notes", "project")
PROPOSAL_TRANSITIONS: dict[str, set[str]] = {
    Proposal.Status.DRAFT: {
        Proposal.Status.PENDING_APPROVAL,
        Proposal.Status.SENT,
        Proposal.Status.WITHDRAWN,
    },
    Proposal.Status.PENDING_APPROVAL: {
        Proposal.Status.DRAFT,
        Proposal.Status.SENT,
        Proposal.Status.WITHDRAWN,
    },
    Proposal.Status.SENT: {Proposal.Status.ACCEPTED, Proposal.Status.DECLINED, Proposal.Status.WITHDRAWN},
    Proposal.Status.ACCEPTED: set(),
    Proposal.Status.DECLINED: set(),
    Proposal.Status.WITHDRAWN: set(),
}


def _proposal_lock(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update().get(pk=proposal.pk)


def _proposal_draft(proposal: Proposal) -> Proposal:
    """The proposal, locked; refused unless it is a draft."""
    locked = _proposal_lock(proposal)
    if locked.status != Proposal.Status.DRAFT:
        raise ValidationError(
            f"Proposal {locked.pk} is {locked.get_status_display().lower()}; only drafts can be edited."
        )
    return locked


@transaction.atomic
def proposal_create(
    *, client: Client, by: User, title: str, lines: Iterable[Mapping[str, Any] | LineData] = (), **data: Any
) -> Proposal:
    proposal = Proposal(client=client, currency=_currency_or_default(data, client))
    _apply(proposal, {"title": title, **data}, allowed=PROPOSAL_FIELDS)
    _check_project_belongs(proposal.project, client)
    _save(proposal, by=by)
    _lines_replace(proposal, ProposalLine, lines, by=by)
    memory_capture_request(record=proposal)
    return proposal


@transaction.atomic
def proposal_update(
    *, proposal: Proposal, by: User, lines: Iterable[Mapping[str, Any] | LineData] | None = None, **data: Any
) -> Proposal:
    _proposal_draft(proposal)
    changed = _apply(proposal, data, allowed=PROPOSAL_FIELDS)
    _check_project_belongs(proposal.project, proposal.client)
    _save(proposal, by=by, update_fields=changed)
    if lines is not None:
        _lines_replace(proposal, ProposalLine, lines, by=by)
    memory_capture_request(record=proposal)
    return proposal


@transaction.atomic
def proposal_line_save(*, line: ProposalLine, by: User) -> ProposalLine:
    proposal = _proposal_draft(line.proposal)
    _line_save(line, proposal, by=by)
    memory_capture_request(record=proposal)
    return line


@transaction.atomic
def proposal_line_delete(*, line: ProposalLine, by: User) -> None:
    proposal = _proposal_draft(line.proposal)
    _line_delete(line, proposal, by=by)
    memory_capture_request(record=proposal)


@transaction.atomic
def proposal_transition(*, proposal: Proposal, to: str, by: User, at: dt.datetime | None = None) -> Proposal:
    """Move a proposal along its lifecycle; `at` back-dates the step (imports, the demo)."""
    locked = _proposal_lock(proposal)
    if to not in PROPOSAL_TRANSITIONS.get(locked.status, set()):
        raise ValidationError({"status": f"A {locked.status} proposal cannot become {to}."})
    if to in (Proposal.Status.PENDING_APPROVAL, Proposal.Status.SENT) and not locked.lines.exists():
        raise ValidationError({"status": "A proposal needs at least one line before it goes out."})
    now = at or clock.now()
    locked.status = to
    fields = ["status"]
    if to == Proposal.Status.SENT:
        locked.sent_at = now
        fields.append("sent_at")
    if to in (Proposal.Status.ACCEPTED, Proposal.Status.DECLINED):
        locked.decided_at = now
        fields.append("decided_at")
    _save(locked, by=by, update_fields=fields)
    proposal.refresh_from_db()
    memory_capture_request(record=proposal)
    return proposal


@transaction.atomic
def proposal_delete_draft(*, proposal: Proposal, by: User) -> None:
    locked = _proposal_lock(proposal)
    _delete(locked, by=by, cascade=list(locked.lines.all()))


@transaction.atomic
def proposal_send_record(
    *,
    client: Client,
    by: User,
    title: str,
    lines: Iterable[Mapping[str, Any] | LineData],
    currency: str,
    cover_letter: str,
    valid_until: dt.date | None = None,
    sent_at: dt.datetime | None = None,
) -> Proposal:
    """A proposal that goes out now (its email is in the outbox of the same transaction): created with
    its lines, then pending approval → sent, each step in its history."""
    proposal = proposal_create(
        client=client,
        by=by,
        title=title,
        lines=lines,
        currency=currency,
        cover_letter=cover_letter,
        valid_until=valid_until,
    )
    proposal_transition(proposal=proposal, to=Proposal.Status.PENDING_APPROVAL, by=by)
    return proposal_transition(proposal=proposal, to=Proposal.Status.SENT, by=by, at=sent_at)
