"""Decisions."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models, transaction

from core import clock
from core.memory.capture import memory_capture_request
from core.models import Client, Decision, Project
from core.services._common import User, _save


@transaction.atomic
def decision_record(
    *,
    by: User,
    title: str,
    rationale: str = "",
    subject: models.Model | None = None,
    client: Client | None = None,
    project: Project | None = None,
    decided_at: dt.datetime | None = None,
) -> Decision:
    decision = Decision(
        title=(title or "").strip(),
        rationale=rationale,
        client=client,
        project=project,
        decided_by=by if getattr(by, "pk", None) else None,
        decided_at=decided_at or clock.now(),
    )
    if not decision.title:
        raise ValidationError({"title": "Say what was decided."})
    if subject is not None:
        decision.subject = subject
    _save(decision, by=by)
    memory_capture_request(record=decision)
    return decision
