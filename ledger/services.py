"""The conductor: submit, claim, run, commit, deliver, retry, dead-letter, cancel, replay.

Every piece of agent work is a Task row. Rules that make it safe (DESIGN §3):
- the same idempotency key gives the same task, also under concurrent submits;
- a worker runs an attempt only after claiming it with one conditional UPDATE, and every later write
  of that attempt is fenced by the claim token, so a worker that was presumed dead cannot interfere;
- agents only propose; actions are committed here, one transaction each, idempotent by their key;
- external effects go through the outbox and are delivered under a row lock (ledger.outbox).
"""

from __future__ import annotations

import logging
import os
import random
import socket
import traceback
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from pydantic import ValidationError as PydanticValidationError

from agents import kernel
from agents.kernel import BudgetDeferred, NeedsReview
from ledger import approvals, commit, logcontext, policy
from ledger.models import Action, ApprovalRequest, OutboxEmail, Task, TaskEvent

logger = logging.getLogger(__name__)

RUNNABLE = (Task.Status.QUEUED, Task.Status.RETRYING)
# Dead letters are "discarded" by cancelling them.
CANCELLABLE = (
    Task.Status.QUEUED,
    Task.Status.RUNNING,
    Task.Status.WAITING_APPROVAL,
    Task.Status.RETRYING,
    Task.Status.DEAD,
)


class OutboxPending(Exception):
    """An email of the task is not confirmed sent yet; the attempt is retried later."""


class ClaimLost(Exception):
    """This worker no longer holds the task (cancelled, or presumed dead and re-claimed)."""


# --- Events ---------------------------------------------------------------------------------


def task_event(
    *,
    task: Task,
    kind: str,
    attempt: int | None = None,
    step: str = "",
    message: str = "",
    data: Mapping[str, Any] | None = None,
) -> TaskEvent:
    return TaskEvent.objects.create(
        task=task,
        kind=kind,
        attempt=task.attempts if attempt is None else attempt,
        step=step,
        message=message[:10000],
        data=dict(data or {}),
    )


# --- Submit ---------------------------------------------------------------------------------


def _requester(requested_by: Any) -> dict[str, Any]:
    """A user, a parent task, or "kind:reference" (e.g. "connector:imap", "schedule:daily-cost")."""
    if isinstance(requested_by, Task):
        return {"requested_by_kind": Task.Requester.TASK, "parent": requested_by}
    if isinstance(requested_by, AbstractBaseUser):
        return {"requested_by_kind": Task.Requester.USER, "requested_by_user": requested_by}
    if isinstance(requested_by, str) and ":" in requested_by:
        kind, ref = requested_by.split(":", 1)
        if kind in Task.Requester.values and kind not in (Task.Requester.USER, Task.Requester.TASK):
            return {"requested_by_kind": kind, "requested_by_ref": ref[:200]}
    raise ValidationError(
        {"requested_by": f"Name who asks: a user, a task or 'connector:…'; got {requested_by!r}."}
    )


def task_submit_or_get(
    *,
    workflow: str,
    input: Mapping[str, Any],
    idempotency_key: str,
    requested_by: Any,  # noqa: A002
    mode: str = Task.Mode.LIVE,
    max_attempts: int | None = None,
) -> tuple[Task, bool]:
    """(task, created): the task for `idempotency_key`, created and queued (after commit) if new."""
    key = (idempotency_key or "").strip()
    if not key:
        raise ValidationError(
            {"idempotency_key": "Every trigger carries a key (Message-ID, event id, slot)."}
        )
    if mode not in Task.Mode.values:
        raise ValidationError({"mode": f"Mode is live or shadow, not {mode!r}."})
    try:
        definition = kernel.workflow_get(workflow)
    except kernel.RegistryError as exc:
        raise ValidationError({"workflow": str(exc)}) from None
    data = kernel.workflow_input_validate(definition, input)
    fields = {
        "workflow": workflow,
        "input": data,
        "mode": mode,
        "max_attempts": max_attempts or definition.max_attempts or settings.AIOS_TASK_MAX_ATTEMPTS,
        **_requester(requested_by),
    }
    with transaction.atomic():
        existing = Task.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing, False
        try:
            # A concurrent submit of the same key blocks on the unique index until the first commits,
            # then fails here and reads the winner.
            with transaction.atomic():
                task = Task.objects.create(idempotency_key=key, **fields)
        except IntegrityError:
            return Task.objects.get(idempotency_key=key), False
        task_event(task=task, kind=TaskEvent.Kind.CREATED, data={"requested_by": str(requested_by)[:200]})
        transaction.on_commit(lambda: task_enqueue(task_id=task.pk))
    return task, True


def task_submit(
    *,
    workflow: str,
    input: Mapping[str, Any],  # noqa: A002
    idempotency_key: str,
    requested_by: Any,
    mode: str = Task.Mode.LIVE,
    max_attempts: int | None = None,
) -> Task:
    """The task for `idempotency_key`, created and queued (after commit) if it does not exist yet."""
    task, _ = task_submit_or_get(
        workflow=workflow,
        input=input,
        idempotency_key=idempotency_key,
        requested_by=requested_by,
        mode=mode,
        max_attempts=max_attempts,
    )
    return task


def task_enqueue(*, task_id: uuid.UUID) -> None:
    """Hand the task to django-q2. Safe to call any number of times: only one claim can win."""
    from django_q.tasks import async_task

    async_task("ledger.tasks.task_run", str(task_id), task_name=f"task {task_id}", group="ledger")


# --- Claim and run --------------------------------------------------------------------------


@dataclass
class Claim:
    task: Task
    token: uuid.UUID

    def fenced(self) -> Any:
        """The task row, still claimed by us, locked for the caller's transaction."""
        task = Task.objects.select_for_update().get(pk=self.task.pk)
        if task.claim_token != self.token or task.status != Task.Status.RUNNING:
            raise ClaimLost(f"task {task.pk} is {task.status} and no longer ours")
        return task


def _lease() -> timedelta:
    # Longer than django-q2's timeout: a live worker is killed by q2 before its lease runs out, so an
    # expired lease always means the attempt is over.
    return timedelta(seconds=settings.Q_CLUSTER["timeout"] + 5)


def _worker_id() -> str:
    # Computed per claim: q2 forks its workers after this module is imported, so a module constant
    # would name the parent process.
    return f"{socket.gethostname()}:{os.getpid()}"


def task_claim(*, task_id: uuid.UUID) -> Claim | None:
    now = timezone.now()
    token = uuid.uuid4()
    worker = _worker_id()
    # The claim and its event commit together: the timeline never misses an attempt.
    with transaction.atomic():
        claimed = (
            Task.objects.filter(pk=task_id, status__in=RUNNABLE, attempts__lt=F("max_attempts"))
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .update(
                status=Task.Status.RUNNING,
                attempts=F("attempts") + 1,
                claim_token=token,
                claimed_by=worker,
                lease_expires_at=now + _lease(),
                started_at=now,
                next_attempt_at=None,
                updated_at=now,
            )
        )
        if not claimed:
            return None
        task = Task.objects.get(pk=task_id)
        task_event(task=task, kind=TaskEvent.Kind.CLAIMED, data={"worker": worker})
    return Claim(task=task, token=token)


def task_execute(*, task_id: uuid.UUID | str) -> str:
    """Claim and run one attempt of a task; returns what happened (for logs and tests)."""
    claim = task_claim(task_id=uuid.UUID(str(task_id)))
    if claim is None:
        return "not-claimable"
    with logcontext.task_context(
        task_id=str(claim.task.pk), workflow=claim.task.workflow, attempt=claim.task.attempts
    ):
        try:
            return _attempt(claim)
        except ClaimLost as exc:
            logger.warning("stopped: %s", exc)
            return "claim-lost"
        except BudgetDeferred as exc:
            _task_defer(claim, exc)
            return "deferred"
        except Exception as exc:  # every failure is recorded on the task; nothing escapes silently
            _task_fail(claim, exc)
            return "failed"


def _attempt(claim: Claim) -> str:
    task = claim.task
    definition = kernel.workflow_get(task.workflow)
    outputs = dict((task.output or {}).get("steps", {}))
    for step in definition.steps:
        if step.name in outputs:
            continue  # finished in an earlier attempt; its actions are already recorded
        output, finished = _step_run(claim, definition, step, outputs)
        outputs[step.name] = output
        # The checkpoint and its step_finished event commit together: the timeline says a step finished
        # exactly when its output is saved (and it is one commit, not two, per step).
        with transaction.atomic():
            locked = claim.fenced()
            locked.output = {"steps": outputs}
            locked.save(update_fields=["output", "updated_at"])
            task_event(task=locked, **finished)
    if _decide_pending_actions(claim):
        return "waiting-approval"
    _commit_approved_actions(claim)
    _deliver_outbox(claim)
    with transaction.atomic():
        locked = claim.fenced()
        locked.status = Task.Status.SUCCEEDED
        locked.finished_at = timezone.now()
        locked.lease_expires_at = None
        locked.cost = _task_cost(locked)
        locked.save(update_fields=["status", "finished_at", "lease_expires_at", "cost", "updated_at"])
        task_event(task=locked, kind=TaskEvent.Kind.SUCCEEDED)
    return "succeeded"


def _step_run(
    claim: Claim, definition: kernel.Workflow, step: kernel.Step, outputs: dict
) -> tuple[dict, dict[str, Any]]:
    from ledger.llm import LLMGateway
    from ledger.memory_access import MemoryAccess

    task = claim.task
    agent_class = kernel.agent_get(step.agent)
    task_event(
        task=task,
        kind=TaskEvent.Kind.STEP_STARTED,
        step=step.name,
        data={"agent": agent_class.name, "version": agent_class.version},
    )
    try:
        agent_input = agent_class.Input.model_validate(step.input(task.input, outputs))
    except PydanticValidationError as exc:
        raise NeedsReview(f"step {step.name}: input does not fit {agent_class.name}: {exc}") from exc
    ctx = kernel.AgentContext(
        task_id=str(task.pk),
        workflow=task.workflow,
        step=step.name,
        attempt=task.attempts,
        mode=task.mode,
        llm=LLMGateway(task=task, step=step.name, agent=agent_class.name),
        memory=MemoryAccess(task=task, step=step.name),
    )
    result = agent_class().run(ctx, agent_input)
    if not isinstance(result.output, agent_class.Output):
        raise NeedsReview(
            f"agent {agent_class.name} returned {type(result.output).__name__}, "
            f"not {agent_class.Output.__name__}"
        )
    for index, proposed in enumerate(result.actions):
        _action_propose(claim, step=step.name, index=index, proposed=proposed, agent=agent_class)
    output = result.output.model_dump(mode="json")
    finished = {
        "kind": TaskEvent.Kind.STEP_FINISHED,
        "step": step.name,
        "data": {"agent": agent_class.name, "output": output, "actions": len(result.actions)},
    }
    return output, finished


# --- Actions --------------------------------------------------------------------------------


def _action_propose(
    claim: Claim, *, step: str, index: int, proposed: kernel.ProposedAction, agent: type[kernel.Agent]
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


def _decide_pending_actions(claim: Claim) -> bool:
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
                locked.decided_at = timezone.now()
            elif verdict.decision == policy.DENY:
                locked.status = Action.Status.REJECTED
                locked.decided_at = timezone.now()
            else:
                waiting = True
                approvals.approval_request_create(action=locked, task=task, verdict=verdict)
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


def _commit_approved_actions(claim: Claim) -> None:
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
            action.committed_at = timezone.now()
            action.save(update_fields=["status", "result", "committed_at"])
            task_event(
                task=task,
                kind=TaskEvent.Kind.COMMITTED,
                step=action.step,
                data={"action": action.pk, "kind": action.kind, "result": result},
            )


def _deliver_outbox(claim: Claim) -> None:
    from ledger import outbox

    for email_id in (
        OutboxEmail.objects.filter(action__task=claim.task, status=OutboxEmail.Status.PENDING)
        .order_by("id")
        .values_list("pk", flat=True)
    ):
        claim.task.refresh_from_db(fields=["status", "claim_token"])
        if claim.task.claim_token != claim.token or claim.task.status != Task.Status.RUNNING:
            raise ClaimLost(f"task {claim.task.pk} is no longer ours")
        if outbox.outbox_deliver(email_id=email_id):
            task_event(task=claim.task, kind=TaskEvent.Kind.DELIVERED, data={"outbox_email": email_id})
    # A row skipped because another process holds it (a worker presumed dead, still sending) is not
    # known to be sent: the task must not succeed before it is, or a failed send would be lost.
    unsent = OutboxEmail.objects.filter(action__task=claim.task, status=OutboxEmail.Status.PENDING).count()
    if unsent:
        raise OutboxPending(f"{unsent} email(s) of this task are still being sent by another process")
    _record_sent_in_conversations(claim.task)


def _record_sent_in_conversations(task: Task) -> None:
    """A sent email that belongs to a conversation becomes its outbound message (once: by Message-ID),
    so the thread shows the reply and the recipient counts as written to."""
    from email.utils import parseaddr

    from core import services as core_services
    from core.models import Conversation

    for email in OutboxEmail.objects.filter(action__task=task, status=OutboxEmail.Status.SENT).select_related(
        "action"
    ):
        conversation_id = (email.action.payload or {}).get("conversation_id")
        conversation = Conversation.objects.filter(pk=conversation_id).first() if conversation_id else None
        if conversation is None:
            continue
        with transaction.atomic():
            core_services.message_record(
                conversation=conversation,
                by=None,
                direction="outbound",
                message_id=email.message_id,
                from_email=parseaddr(email.from_email)[1],
                to=email.to,
                cc=email.cc,
                subject=email.subject,
                body_text=email.body_text,
                in_reply_to=email.in_reply_to,
                references=email.references,
                sent_at=email.sent_at,
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
        approvals.approval_approve(approval=approval, by=by)
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
        approvals.approval_reject(approval=approval, by=by, reason=reason)
        return Action.objects.get(pk=action.pk)
    with transaction.atomic():
        return action_decide_by_operator(
            action=Action.objects.select_for_update().get(pk=action.pk), by=by, approve=False, reason=reason
        )


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
    action.decided_at = timezone.now()
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
    action.decided_at = timezone.now()
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


# --- Failure, retry, dead letters -----------------------------------------------------------


def retry_delay(*, attempt: int, rng: random.Random | None = None) -> timedelta:
    """Exponential backoff with ±20 % jitter: base · 2^(attempt-1), capped (settings in .env.example)."""
    base = settings.AIOS_TASK_RETRY_BASE_SECONDS
    delay = min(settings.AIOS_TASK_RETRY_MAX_SECONDS, base * 2 ** max(attempt - 1, 0))
    return timedelta(seconds=delay * (rng or random).uniform(0.8, 1.2))  # noqa: S311 - jitter, not crypto


def _task_fail(claim: Claim, exc: BaseException) -> None:
    error = f"{type(exc).__name__}: {exc}"
    trace = "".join(traceback.format_exception(exc))
    logger.error("attempt failed: %s", error)
    with transaction.atomic():
        try:
            task = claim.fenced()
        except ClaimLost:
            return
        task.status = Task.Status.FAILED
        task.last_error = error[:10000]
        task.last_traceback = trace[-20000:]
        task.lease_expires_at = None
        task.cost = _task_cost(task)
        task.save(
            update_fields=["status", "last_error", "last_traceback", "lease_expires_at", "cost", "updated_at"]
        )
        task_event(task=task, kind=TaskEvent.Kind.FAILED, message=error, data={"traceback": trace[-4000:]})
        _retry_or_dead_letter(task, final=isinstance(exc, NeedsReview))


def _task_defer(claim: Claim, exc: BudgetDeferred) -> None:
    """Hold the task back until the budget allows it; the attempt it used is given back."""
    with transaction.atomic():
        try:
            task = claim.fenced()
        except ClaimLost:
            return
        task.status = Task.Status.RETRYING
        task.attempts = max(task.attempts - 1, 0)
        task.next_attempt_at = timezone.now() + timedelta(minutes=settings.AIOS_BUDGET_DEFER_MINUTES)
        task.lease_expires_at = None
        task.cost = _task_cost(task)
        task.save(
            update_fields=["status", "attempts", "next_attempt_at", "lease_expires_at", "cost", "updated_at"]
        )
        task_event(
            task=task,
            kind=TaskEvent.Kind.DEFERRED,
            message=str(exc),
            data={"next_attempt_at": task.next_attempt_at.isoformat()},
        )
        transaction.on_commit(lambda: budget_notice_submit(reason=str(exc), budgets=exc.budgets))


def budget_notice_submit(*, reason: str, budgets: list[str]) -> Task | None:
    """Tell the operator (once a month per reached budget) that work is waiting for the budget."""
    from core import selectors as core_selectors
    from ledger.policy import month_start

    month = month_start().strftime("%Y-%m")
    names = budgets or ["LLM budget"]

    workspace = core_selectors.workspace_get()
    if workspace is None or not workspace.operator_email:
        return None
    return task_submit(
        workflow="notice.operator",
        input={
            "subject": f"LLM budget reached: {', '.join(names)}",
            "body": (
                f"{reason}\n\nNon-critical agent work is deferred and retried every "
                f"{settings.AIOS_BUDGET_DEFER_MINUTES} minutes; critical work runs on a cheaper tier. "
                "Raise the cap in the back office (Policies) to let it run now."
            ),
        },
        idempotency_key=f"notice:budget:{month}:{','.join(names)}"[:255],
        requested_by="system:budget",
    )


def _retry_or_dead_letter(task: Task, *, final: bool = False) -> None:
    if final or task.attempts >= task.max_attempts:
        task.status = Task.Status.DEAD
        task.finished_at = timezone.now()
        task.save(update_fields=["status", "finished_at", "updated_at"])
        task_event(
            task=task,
            kind=TaskEvent.Kind.DEAD_LETTERED,
            message="needs review" if final else f"gave up after {task.attempts} attempts",
        )
        return
    task.status = Task.Status.RETRYING
    task.next_attempt_at = timezone.now() + retry_delay(attempt=task.attempts)
    task.save(update_fields=["status", "next_attempt_at", "updated_at"])
    task_event(
        task=task,
        kind=TaskEvent.Kind.RETRY_SCHEDULED,
        data={"next_attempt_at": task.next_attempt_at.isoformat()},
    )


def task_retry(*, task: Task, by: AbstractBaseUser) -> Task:
    """The operator sends a dead letter back to the queue with a fresh set of attempts."""
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.status != Task.Status.DEAD:
            raise ValidationError(
                {"status": f"Only dead-lettered tasks can be retried; this one is {locked.status}."}
            )
        previous = locked.attempts
        locked.status = Task.Status.QUEUED
        locked.attempts = 0
        locked.next_attempt_at = None
        locked.finished_at = None
        locked.save(update_fields=["status", "attempts", "next_attempt_at", "finished_at", "updated_at"])
        task_event(
            task=locked,
            kind=TaskEvent.Kind.REQUEUED,
            attempt=previous,
            data={"by": by.get_username(), "previous_attempts": previous},
        )
        transaction.on_commit(lambda: task_enqueue(task_id=locked.pk))
    return locked


def task_discard(*, task: Task, by: AbstractBaseUser, reason: str = "") -> Task:
    """Give up on a dead letter for good (it stays in the ledger, cancelled, with its record)."""
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.status != Task.Status.DEAD:
            raise ValidationError(
                {"status": f"Only dead-lettered tasks can be discarded; this one is {locked.status}."}
            )
        return task_cancel(task=locked, by=by, reason=(reason or "").strip() or "Discarded")


def task_cancel(*, task: Task, by: AbstractBaseUser, reason: str = "") -> Task:
    """Stop a task (a dead letter is "discarded" this way). Undecided actions are rejected."""
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.status not in CANCELLABLE:
            raise ValidationError({"status": f"A {locked.status} task cannot be cancelled."})
        locked.status = Task.Status.CANCELLED
        locked.finished_at = timezone.now()
        locked.lease_expires_at = None
        locked.save(update_fields=["status", "finished_at", "lease_expires_at", "updated_at"])
        locked.actions.filter(status__in=[Action.Status.PROPOSED, Action.Status.APPROVED]).update(
            status=Action.Status.REJECTED,
            decision_reason="task cancelled",
            decided_by=by,
            decided_at=timezone.now(),
        )
        approvals.approvals_cancel_for_task(task=locked)
        task_event(
            task=locked,
            kind=TaskEvent.Kind.CANCELLED,
            message=(reason or "").strip(),
            data={"by": by.get_username()},
        )
    return locked


# --- Sweeping (scheduled) -------------------------------------------------------------------


def ledger_sweep() -> dict[str, int]:
    """Recover what crashed workers left behind and queue retries that are due.

    - running tasks whose lease ran out (the worker died): the attempt counts as failed;
    - retrying tasks whose time has come, and queued tasks nobody picked up: handed to django-q2 again.
    """
    now = timezone.now()
    expired = 0
    for task_id in Task.objects.filter(status=Task.Status.RUNNING, lease_expires_at__lt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            task = (
                Task.objects.select_for_update(skip_locked=True)
                .filter(pk=task_id, status=Task.Status.RUNNING, lease_expires_at__lt=now)
                .first()
            )
            if task is None:
                continue
            task.claim_token = None
            task.lease_expires_at = None
            task.last_error = f"The worker {task.claimed_by} stopped answering (lease expired)."
            task.save(update_fields=["claim_token", "lease_expires_at", "last_error", "updated_at"])
            task_event(task=task, kind=TaskEvent.Kind.LEASE_EXPIRED, message=task.last_error)
            if task.attempts >= task.max_attempts:
                _retry_or_dead_letter(task)
            else:
                # A crash is not the task's fault: try again at once rather than after a backoff.
                task.status = Task.Status.RETRYING
                task.next_attempt_at = now
                task.save(update_fields=["status", "next_attempt_at", "updated_at"])
                task_event(
                    task=task, kind=TaskEvent.Kind.RETRY_SCHEDULED, data={"next_attempt_at": now.isoformat()}
                )
                transaction.on_commit(lambda task_id=task.pk: task_enqueue(task_id=task_id))
            expired += 1
    stale_queue = now - timedelta(seconds=settings.AIOS_TASK_REQUEUE_AFTER_SECONDS)
    # A retry is handed over once when it falls due (then updated_at passes next_attempt_at); anything
    # runnable that nobody has claimed for a while is handed over again, in case its package was lost.
    due = list(
        Task.objects.filter(
            Q(status=Task.Status.RETRYING, next_attempt_at__lte=now, updated_at__lt=F("next_attempt_at"))
            | Q(status__in=RUNNABLE, updated_at__lt=stale_queue)
        ).values_list("pk", flat=True)[:1000]
    )
    for task_id in due:
        task_enqueue(task_id=task_id)
    Task.objects.filter(pk__in=due).update(updated_at=now)
    return {"lease_expired": expired, "enqueued": len(due)}


def _task_cost(task: Task) -> Decimal:
    return task.llm_calls.aggregate(total=Sum("cost"))["total"] or Decimal("0")


# --- Replay ---------------------------------------------------------------------------------


@dataclass
class ReplayReport:
    task_id: str
    matches: bool
    steps: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "matches": self.matches, "steps": self.steps}


def task_replay(*, task: Task) -> ReplayReport:
    """Re-run a finished task's steps on its recorded input and recorded LLM answers.

    Nothing is written but one `replayed` event: proposals are compared, never stored or committed, and
    the gateway answers from the task's recorded calls without reaching any model.
    """
    from ledger.llm import LLMGateway
    from ledger.memory_access import MemoryAccess

    task = Task.objects.get(pk=task.pk)
    if task.status != Task.Status.SUCCEEDED:
        raise ValidationError({"status": "Only a succeeded task has a complete record to replay."})
    definition = kernel.workflow_get(task.workflow)
    recorded = (task.output or {}).get("steps", {})
    recorded_actions = {}
    for action in task.actions.order_by("id"):
        recorded_actions.setdefault(action.step, []).append({"kind": action.kind, "payload": action.payload})
    outputs: dict[str, Any] = {}
    report: dict[str, dict[str, Any]] = {}
    for step in definition.steps:
        agent_class = kernel.agent_get(step.agent)
        agent_input = agent_class.Input.model_validate(step.input(task.input, outputs))
        ctx = kernel.AgentContext(
            task_id=str(task.pk),
            workflow=task.workflow,
            step=step.name,
            attempt=task.attempts,
            mode="replay",
            llm=LLMGateway(task=task, step=step.name, agent=agent_class.name, replay=True),
            memory=MemoryAccess(task=task, step=step.name, replay=True),
        )
        result = agent_class().run(ctx, agent_input)
        output = result.output.model_dump(mode="json")
        outputs[step.name] = output
        actions = [{"kind": a.kind, "payload": a.payload} for a in result.actions]
        report[step.name] = {
            "output_matches": output == recorded.get(step.name),
            "actions_match": actions == recorded_actions.get(step.name, []),
        }
    matches = all(entry["output_matches"] and entry["actions_match"] for entry in report.values())
    task_event(task=task, kind=TaskEvent.Kind.REPLAYED, data={"matches": matches, "steps": report})
    return ReplayReport(task_id=str(task.pk), matches=matches, steps=report)
