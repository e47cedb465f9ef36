"""Actions: proposed by a step, decided by the policy engine or the operator, committed one at a time."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from agents import kernel
from core import clock
from ledger import commit, policy
from ledger.models import Action, ApprovalRequest, Task, TaskEvent
from ledger.services.approvals import approval_approve, approval_reject, approval_request_create
from ledger.services.claim import Claim
from ledger.services.decisions import action_decide_by_operator
from ledger.services.events import task_event


def action_propose(
    *, claim: Claim, step: str, index: int, proposed: kernel.ProposedAction, agent: type[kernel.Agent]
) -> Action:
    """Record a proposal once: a step re-run after a crash proposes the same key and gets the same row."""
    task = claim.task
    key = f"{task.pk}:{step}:{index}"
    with transaction.atomic():
        claim.fenced()
        action, created = Action.objects.get_or_create(
            idempotency_key=key,
            defaults={
                "task": task,
                "step": step,
                "kind": proposed.kind,
                "payload": proposed.payload,
                "summary": proposed.summary[:500],
                "agent": agent.name,
                "agent_version": str(agent.version)[:20],
                "confidence": proposed.confidence,
                "amount": proposed.amount,
                "currency": (proposed.currency or "").upper()[:3],
                "inferred": [item.model_dump(mode="json") for item in proposed.inferred],
                "source": proposed.source,
            },
        )
        if created:
            task_event(
                task=task,
                kind=TaskEvent.Kind.ACTION_PROPOSED,
                step=step,
                data={"action": action.pk, "kind": action.kind, "summary": action.summary},
            )
    return action


def actions_decide_pending(*, claim: Claim) -> bool:
    """Ask the policy about every undecided action; True when the operator must approve something."""
    task = claim.task
    waiting = False
    for action in task.actions.filter(status=Action.Status.PROPOSED).order_by("id"):
        verdict = policy.action_decide(action=action, task=task)
        with transaction.atomic():
            claim.fenced()
            locked = Action.objects.select_for_update().get(pk=action.pk)
            if locked.status != Action.Status.PROPOSED:
                continue
            if not locked.decision:
                locked.decision, locked.decision_reason = verdict.decision, verdict.reason
                locked.decision_policies = verdict.policies
                task_event(
                    task=task,
                    kind=TaskEvent.Kind.POLICY_DECISION,
                    step=locked.step,
                    data={
                        "action": locked.pk,
                        "decision": verdict.decision,
                        "reason": verdict.reason,
                        "policy": verdict.policy,
                        "policies": verdict.policies,
                        "floors": verdict.floors,
                    },
                )
            if verdict.decision == policy.COMMIT:
                locked.status = Action.Status.APPROVED
                locked.decided_at = clock.now()
            elif verdict.decision == policy.DENY:
                locked.status = Action.Status.REJECTED
                locked.decided_at = clock.now()
            else:
                waiting = True
                approval_request_create(action=locked, task=task, verdict=verdict)
            locked.save(
                update_fields=["status", "decision", "decision_reason", "decision_policies", "decided_at"]
            )
    if waiting:
        with transaction.atomic():
            locked_task = claim.fenced()
            locked_task.status = Task.Status.WAITING_APPROVAL
            locked_task.lease_expires_at = None
            locked_task.save(update_fields=["status", "lease_expires_at", "updated_at"])
            task_event(
                task=locked_task,
                kind=TaskEvent.Kind.APPROVAL_ASKED,
                data={
                    "actions": list(
                        task.actions.filter(status=Action.Status.PROPOSED).values_list("pk", flat=True)
                    )
                },
            )
    return waiting


def actions_commit_approved(*, claim: Claim) -> None:
    task = claim.task
    for action_id in (
        task.actions.filter(status=Action.Status.APPROVED).order_by("id").values_list("pk", flat=True)
    ):
        with transaction.atomic():
            claim.fenced()
            action = Action.objects.select_for_update().get(pk=action_id)
            if action.status != Action.Status.APPROVED:
                continue
            if task.mode == Task.Mode.SHADOW:
                result = {"shadow": True, "would": action.kind}
            else:
                result = commit.action_commit(action=action, task=task)
            action.status = Action.Status.COMMITTED
            action.result = result
            action.committed_at = clock.now()
            action.save(update_fields=["status", "result", "committed_at"])
            task_event(
                task=task,
                kind=TaskEvent.Kind.COMMITTED,
                step=action.step,
                data={"action": action.pk, "kind": action.kind, "result": result},
            )


def _require_proposed(action: Action) -> None:
    status = Action.objects.filter(pk=action.pk).values_list("status", flat=True).first()
    if status != Action.Status.PROPOSED:
        raise ValidationError({"status": f"This action is already {status}."})


def action_approve(*, action: Action, by: AbstractBaseUser) -> Action:
    """The operator approves a proposed action; the task resumes once nothing else waits."""
    _require_proposed(action)
    approval = ApprovalRequest.objects.filter(action_id=action.pk).first()
    if approval is not None:
        approval_approve(approval=approval, by=by)
        return Action.objects.get(pk=action.pk)
    with transaction.atomic():
        return action_decide_by_operator(
            action=Action.objects.select_for_update().get(pk=action.pk), by=by, approve=True
        )


def action_reject(*, action: Action, by: AbstractBaseUser, reason: str) -> Action:
    reason = (reason or "").strip() or "Rejected by the operator"
    _require_proposed(action)
    approval = ApprovalRequest.objects.filter(action_id=action.pk).first()
    if approval is not None:
        approval_reject(approval=approval, by=by, reason=reason)
        return Action.objects.get(pk=action.pk)
    with transaction.atomic():
        return action_decide_by_operator(
            action=Action.objects.select_for_update().get(pk=action.pk), by=by, approve=False, reason=reason
        )
