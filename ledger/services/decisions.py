"""The operator's decision on a proposed action, or its expiry; the task resumes once nothing waits."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from core import clock
from ledger.models import Action, Task, TaskEvent
from ledger.services.events import task_event
from ledger.services.submit import task_enqueue


def action_decide_by_operator(
    *,
    action: Action,
    by: AbstractBaseUser,
    approve: bool,
    reason: str = "",
    edit_diff: Mapping[str, Any] | None = None,
) -> Action:
    """Record the operator's decision on a locked proposed action (inside the caller's transaction)."""
    if action.status != Action.Status.PROPOSED:
        raise ValidationError({"status": f"This action is already {action.status}."})
    action.status = Action.Status.APPROVED if approve else Action.Status.REJECTED
    action.decided_by = by
    action.decided_at = clock.now()
    fields = ["status", "decided_by", "decided_at"]
    data: dict[str, Any] = {"action": action.pk, "by": by.get_username()}
    if not approve:
        action.decision_reason = reason
        fields.append("decision_reason")
        data["rejected"] = reason
    if edit_diff:
        data["edited"] = sorted(edit_diff)
    action.save(update_fields=fields)
    task_event(task=action.task, kind=TaskEvent.Kind.APPROVAL_GIVEN, step=action.step, data=data)
    _resume_if_decided(action.task_id)
    return action


def action_expire(*, action: Action) -> Action:
    """The approval request of a locked proposed action ran out of time: reject it, tell the task."""
    if action.status != Action.Status.PROPOSED:
        return action
    action.status = Action.Status.REJECTED
    action.decided_at = clock.now()
    action.decision_reason = "The approval request expired before the operator decided."
    action.save(update_fields=["status", "decided_at", "decision_reason"])
    task_event(
        task=action.task,
        kind=TaskEvent.Kind.APPROVAL_EXPIRED,
        step=action.step,
        data={"action": action.pk},
        message=action.decision_reason,
    )
    _resume_if_decided(action.task_id)
    return action


def _resume_if_decided(task_id: uuid.UUID) -> None:
    task = Task.objects.select_for_update().get(pk=task_id)
    if (
        task.status != Task.Status.WAITING_APPROVAL
        or task.actions.filter(status=Action.Status.PROPOSED).exists()
    ):
        return
    task.status = Task.Status.QUEUED
    # Waiting is not an attempt: the resumed run may use all the attempts that were left.
    task.max_attempts = max(task.max_attempts, task.attempts + 1)
    task.save(update_fields=["status", "max_attempts", "updated_at"])
    task_event(task=task, kind=TaskEvent.Kind.QUEUED, message="every action is decided")
    transaction.on_commit(lambda: task_enqueue(task_id=task.pk))
