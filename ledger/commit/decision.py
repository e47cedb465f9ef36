"""`decision.record` and `intake.review`: decisions written into the canonical record."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from core import services as core_services
from core.models import Client, Message, Project
from ledger.commit.registry import RECORD, committer
from ledger.models import Action, Task


class DecisionPayload(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    rationale: str = ""
    client_id: int | None = None
    project_id: int | None = None


@committer(
    "decision.record",
    effect=RECORD,
    payload=DecisionPayload,
    irreversible_note="Decisions are kept as history; record a new decision to change course.",
)
def commit_decision_record(action: Action, task: Task) -> dict[str, Any]:
    payload = DecisionPayload.model_validate(action.payload)
    decision = core_services.decision_record(
        by=None,
        title=payload.title,
        rationale=payload.rationale,
        client=Client.objects.get(pk=payload.client_id) if payload.client_id else None,
        project=Project.objects.get(pk=payload.project_id) if payload.project_id else None,
    )
    return {"decision": decision.pk}


class IntakeReviewPayload(BaseModel):
    message_id: int
    client_id: int | None = None
    title: str = Field(min_length=1, max_length=300)
    found: dict[str, Any] = {}
    reasons: list[str] = []


@committer(
    "intake.review",
    effect=RECORD,
    payload=IntakeReviewPayload,
    irreversible_note="The review is kept as a decision in the record.",
)
def commit_intake_review(action: Action, task: Task) -> dict[str, Any]:
    """The operator looked at a mail the agents were unsure about: the review is recorded as a decision
    about that message (what was found, why it needed a person), so the record explains the outcome."""
    payload = IntakeReviewPayload.model_validate(action.payload)
    message = Message.objects.filter(pk=payload.message_id).first()
    decision = core_services.decision_record(
        by=action.decided_by,  # the operator who reviewed it
        title=payload.title,
        rationale="\n".join(
            [*payload.reasons, "Found: " + json.dumps(payload.found, ensure_ascii=False, default=str)]
        ),
        client=Client.objects.filter(pk=payload.client_id).first() if payload.client_id else None,
        subject=message,
    )
    return {"decision": decision.pk}
