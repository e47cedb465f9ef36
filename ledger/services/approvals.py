"""The approval queue (DESIGN §7): services that write ApprovalRequests and act on them.

An ApprovalRequest is created by the conductor, in the transaction that records the policy engine's
"ask" for an action. The operator approves (maybe after editing the draft: the edit is kept as a diff),
rejects with a reason, or lets it expire; each outcome decides the action, is a timeline event of the
task, and resumes the task once nothing else of it waits. Approvals of one agent's action kind feed the
autonomy suggestions (ledger.services.autonomy).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from core import clock
from ledger import commit, policy
from ledger.models import Action, ApprovalRequest, Task, TaskEvent
from ledger.services.autonomy import autonomy_watch
from ledger.services.decisions import action_decide_by_operator, action_expire
from ledger.services.events import task_event
from ledger.services.locking import each_row_locked
from ledger.services.submit import task_submit

URGENT_FLOORS = 2
URGENT_EXTERNAL = 1


def approval_request_create(*, action: Action, task: Task, verdict: policy.Verdict) -> ApprovalRequest:
    """Called by the conductor inside the transaction that records the "ask" (idempotent per action)."""
    effect = commit.committer_effect(action.kind)
    urgency = URGENT_FLOORS if verdict.floors else URGENT_EXTERNAL if effect == policy.EXTERNAL else 0
    approval, _ = ApprovalRequest.objects.get_or_create(
        action=action,
        defaults={
            "task": task,
            "reason": verdict.reason,
            "policies": verdict.policies,
            "floors": verdict.floors,
            "urgency": urgency,
            "expires_at": clock.now() + dt.timedelta(hours=settings.AIOS_APPROVAL_EXPIRY_HOURS),
        },
    )
    return approval


def _locked(approval: ApprovalRequest) -> ApprovalRequest:
    locked = ApprovalRequest.objects.select_for_update().select_related("action").get(pk=approval.pk)
    if locked.status != ApprovalRequest.Status.PENDING:
        raise ValidationError({"status": f"This request is already {locked.get_status_display().lower()}."})
    return locked


def _edit_diff(kind: str, draft: Mapping[str, Any], changes: Mapping[str, Any]) -> tuple[dict, dict]:
    """(new payload, diff) for the operator's edits; only fields the draft has may be edited."""
    unknown = sorted(set(changes) - set(draft))
    if unknown:
        raise ValidationError({name: "The draft has no such field to edit." for name in unknown})
    edited = {**draft, **changes}
    clean = commit.payload_validate(kind=kind, payload=edited)
    diff = {
        name: {"before": draft.get(name), "after": clean.get(name, edited[name])}
        for name in changes
        if clean.get(name, edited[name]) != draft.get(name)
    }
    return {**edited, **{name: clean[name] for name in changes if name in clean}}, diff


def approval_approve(
    *, approval: ApprovalRequest, by: AbstractBaseUser, changes: Mapping[str, Any] | None = None
) -> ApprovalRequest:
    """Approve, or edit then approve: `changes` are new values of draft fields, kept as a diff."""
    with transaction.atomic():
        locked = _locked(approval)
        action = Action.objects.select_for_update().get(pk=locked.action_id)
        diff: dict[str, Any] = {}
        if changes:
            payload, diff = _edit_diff(action.kind, action.payload, changes)
            if diff:
                action.payload = payload
                action.save(update_fields=["payload"])
        locked.status = ApprovalRequest.Status.APPROVED
        locked.decided_by, locked.decided_at = by, clock.now()
        locked.edited, locked.edit_diff = bool(diff), diff
        locked.save(update_fields=["status", "decided_by", "decided_at", "edited", "edit_diff"])
        action_decide_by_operator(action=action, by=by, approve=True, edit_diff=diff)
        autonomy_watch(action=action)
    return locked


def approval_reject(*, approval: ApprovalRequest, by: AbstractBaseUser, reason: str) -> ApprovalRequest:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why it is rejected: the agent's record keeps the reason."})
    with transaction.atomic():
        locked = _locked(approval)
        action = Action.objects.select_for_update().get(pk=locked.action_id)
        locked.status = ApprovalRequest.Status.REJECTED
        locked.decided_by, locked.decided_at = by, clock.now()
        locked.reject_reason = reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "reject_reason"])
        action_decide_by_operator(action=action, by=by, approve=False, reason=reason)
    return locked


@dataclass
class BatchResult:
    done: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def _batch(ids: Iterable[int], act) -> BatchResult:
    """Each request in its own transaction: one refusal (already decided) does not undo the others."""
    result = BatchResult()
    wanted = sorted({int(pk) for pk in ids})
    found = {approval.pk: approval for approval in ApprovalRequest.objects.filter(pk__in=wanted)}
    for pk in wanted:
        approval = found.get(pk)
        if approval is None:
            result.refused[pk] = "No such approval request."
            continue
        try:
            act(approval)
        except ValidationError as exc:
            result.refused[pk] = " ".join(exc.messages)
        else:
            result.done.append(pk)
    return result


def approvals_approve_many(*, ids: Iterable[int], by: AbstractBaseUser) -> BatchResult:
    return _batch(ids, lambda approval: approval_approve(approval=approval, by=by))


def approvals_reject_many(*, ids: Iterable[int], by: AbstractBaseUser, reason: str) -> BatchResult:
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why they are rejected."})
    return _batch(ids, lambda approval: approval_reject(approval=approval, by=by, reason=reason))


def approvals_expire(*, now: dt.datetime | None = None) -> int:
    """Pending requests past their time: the action is rejected as expired and its task told."""
    now = now or clock.now()

    def expire(approval: ApprovalRequest) -> None:
        approval.status = ApprovalRequest.Status.EXPIRED
        approval.decided_at = now
        approval.save(update_fields=["status", "decided_at"])
        action_expire(action=Action.objects.select_for_update().get(pk=approval.action_id))

    return each_row_locked(
        ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING, expires_at__lte=now), expire
    )


def approvals_cancel_for_task(*, task: Task) -> None:
    ApprovalRequest.objects.filter(task=task, status=ApprovalRequest.Status.PENDING).update(
        status=ApprovalRequest.Status.CANCELLED, decided_at=clock.now()
    )


# --- Reversal ---------------------------------------------------------------------------------


def action_revert_request(*, action: Action, by: AbstractBaseUser) -> Task:
    """Ask for a committed record change to be reverted: a new `record.revert` task, one per action."""
    if action.status != Action.Status.COMMITTED:
        raise ValidationError({"status": "Only a committed change can be reverted."})
    if not commit.committer_reversible(action.kind):
        raise ValidationError({"kind": commit.committer_irreversible_note(action.kind)})
    if not (action.result or {}).get("changes"):
        raise ValidationError({"result": "This action recorded no record change to revert."})
    if (
        Task.objects.filter(workflow="record.revert", mode=Task.Mode.LIVE, input__action_id=action.pk)
        .exclude(status=Task.Status.CANCELLED)
        .exists()
    ):
        raise ValidationError({"action": "A reversal of this change was already asked for."})
    task = task_submit(
        workflow="record.revert",
        input={"action_id": action.pk},
        idempotency_key=f"revert:{action.pk}",
        requested_by=by,
    )
    task_event(
        task=action.task,
        kind=TaskEvent.Kind.REVERSAL_ASKED,
        data={"action": action.pk, "reversal_task": str(task.pk), "by": by.get_username()},
    )
    return task
