"""The conductor: claim an attempt, run the workflow's steps, decide, commit and deliver their actions.

Every piece of agent work is a Task row. Rules that make it safe (DESIGN §3):
- the same idempotency key gives the same task, also under concurrent submits (ledger.services.submit);
- a worker runs an attempt only after claiming it with one conditional UPDATE, and every later write
  of that attempt is fenced by the claim token, so a worker that was presumed dead cannot interfere;
- agents only propose; actions are committed here, one transaction each, idempotent by their key;
- external effects go through the outbox and are delivered under a row lock (ledger.outbox).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from pydantic import ValidationError as PydanticValidationError

from agents import kernel
from core import clock
from ledger import logcontext
from ledger.llm import LLMGateway
from ledger.memory_access import MemoryAccess
from ledger.models import Task, TaskEvent
from ledger.scoping import step_scope
from ledger.services.actions import action_propose, actions_commit_approved, actions_decide_pending
from ledger.services.claim import Claim, attempt_end, task_claim
from ledger.services.delivery import attempt_delivery_wait
from ledger.services.errors import BudgetDeferred, ClaimLost, DeliveryFailed, NeedsReview
from ledger.services.events import task_event
from ledger.services.failures import attempt_defer, attempt_fail
from ledger.services.outbox import outbox_deliver_for_task

logger = logging.getLogger(__name__)


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
            attempt_defer(claim=claim, exc=exc)
            return "deferred"
        except DeliveryFailed as exc:
            logger.warning("delivery failed: %s", exc)
            return attempt_delivery_wait(claim=claim, exc=exc)
        except Exception as exc:  # every failure is recorded on the task; nothing escapes silently
            attempt_fail(claim=claim, exc=exc)
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
    if actions_decide_pending(claim=claim):
        return "waiting-approval"
    actions_commit_approved(claim=claim)
    outbox_deliver_for_task(claim=claim)
    with transaction.atomic():
        locked = claim.fenced()
        locked.finished_at = clock.now()
        attempt_end(task=locked, status=Task.Status.SUCCEEDED, changed=("finished_at",))
        task_event(task=locked, kind=TaskEvent.Kind.SUCCEEDED)
    return "succeeded"


def _step_run(
    claim: Claim, definition: kernel.Workflow, step: kernel.Step, outputs: dict
) -> tuple[dict, dict[str, Any]]:

    task = claim.task
    agent_class = kernel.agent_get(step.agent)
    scope = step_scope(task=task, definition=definition)
    task_event(
        task=task,
        kind=TaskEvent.Kind.STEP_STARTED,
        step=step.name,
        data={"agent": agent_class.name, "version": agent_class.version, "scope": scope.as_dict()},
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
        memory=MemoryAccess(task=task, step=step.name, scope=scope),
        scope=scope,
    )
    result = agent_class().run(ctx, agent_input)
    if not isinstance(result.output, agent_class.Output):
        raise NeedsReview(
            f"agent {agent_class.name} returned {type(result.output).__name__}, "
            f"not {agent_class.Output.__name__}"
        )
    for index, proposed in enumerate(result.actions):
        action_propose(claim=claim, step=step.name, index=index, proposed=proposed, agent=agent_class)
    output = result.output.model_dump(mode="json")
    finished = {
        "kind": TaskEvent.Kind.STEP_FINISHED,
        "step": step.name,
        "data": {"agent": agent_class.name, "output": output, "actions": len(result.actions)},
    }
    return output, finished
