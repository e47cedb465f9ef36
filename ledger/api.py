"""The task API, mounted at /api/v1/ by aios/api.py: submit, list and read tasks; retry, discard or cancel
them; approve or reject the actions they propose.

Endpoints parse input and call one conductor service with `by=request.user` (or `requested_by`). A state
the service refuses — retrying a task that is not dead, deciding an action twice — is a 422 with its
message, like any other refused input of this API; an unknown id is a 404.
"""

import uuid

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from core.api import paginated
from core.schemas import RecordId
from ledger import selectors, services
from ledger.models import Action, Task
from ledger.schemas import (
    ActionOut,
    ReasonIn,
    RejectIn,
    TaskDetailOut,
    TaskFilters,
    TaskOut,
    TaskSubmitIn,
    TaskSubmitOut,
)

router = Router()
tasks = Router(tags=["tasks"])
actions = Router(tags=["actions"])


@tasks.post("", response={200: TaskSubmitOut, 201: TaskSubmitOut})
def submit_task(request: HttpRequest, payload: TaskSubmitIn):
    """Create and queue a task, or return the one its idempotency key already made (200, `created` false)."""
    task, created = services.task_submit_or_get(
        workflow=payload.workflow,
        input=payload.input,
        idempotency_key=payload.idempotency_key,
        requested_by=request.user,
        mode=payload.mode,
    )
    task.created = created
    return Status(201 if created else 200, task)


@tasks.get("", response=list[TaskOut])
@paginated
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]):
    """Newest first."""
    return selectors.task_list(**filters.model_dump())


@tasks.get("/{task_id}", response=TaskDetailOut)
def get_task(request: HttpRequest, task_id: uuid.UUID):
    """The task with its timeline, actions (and their outbox emails), LLM calls and cost."""
    return selectors.task_with_record(task_id=task_id)


@tasks.post("/{task_id}/retry", response=TaskOut)
def retry_task(request: HttpRequest, task_id: uuid.UUID):
    """Send a dead letter back to the queue with a fresh set of attempts."""
    task = get_object_or_404(Task, pk=task_id)
    return services.task_retry(task=task, by=request.user)


@tasks.post("/{task_id}/discard", response=TaskOut)
def discard_task(request: HttpRequest, task_id: uuid.UUID, payload: ReasonIn | None = None):
    """Give up on a dead letter for good. Only dead-lettered tasks; `cancel` stops the others."""
    task = get_object_or_404(Task, pk=task_id)
    reason = payload.reason if payload else ""
    return services.task_discard(task=task, by=request.user, reason=reason)


@tasks.post("/{task_id}/cancel", response=TaskOut)
def cancel_task(request: HttpRequest, task_id: uuid.UUID, payload: ReasonIn | None = None):
    """Stop a task that has not finished; the actions still waiting for a decision are rejected."""
    task = get_object_or_404(Task, pk=task_id)
    return services.task_cancel(task=task, by=request.user, reason=payload.reason if payload else "")


@actions.post("/{action_id}/approve", response=ActionOut)
def approve_action(request: HttpRequest, action_id: RecordId):
    """Approve a proposed action; its task is queued again once nothing else waits for a decision."""
    action = get_object_or_404(Action, pk=action_id)
    return services.action_approve(action=action, by=request.user)


@actions.post("/{action_id}/reject", response=ActionOut)
def reject_action(request: HttpRequest, action_id: RecordId, payload: RejectIn):
    """Reject a proposed action: it is never carried out."""
    action = get_object_or_404(Action, pk=action_id)
    return services.action_reject(action=action, by=request.user, reason=payload.reason)


router.add_router("/tasks", tasks)
router.add_router("/actions", actions)
