"""The client scope of a step: built from the task's trigger, recorded on its timeline, restored in replay.

Agents read records only through `ctx.scope` (core.scope.ClientScope) and memory only through
`ctx.memory`, which the ledger binds to the same scope (docs/adr/0013-client-scope.md). The scope comes
from the workflow's declaration (`Workflow.scope_message_key`: the input key of the inbound message the
work answers), never from what an agent or a mail says.
"""

from __future__ import annotations

from typing import Any

from agents import kernel
from core import scope as core_scope
from core.models import Message
from ledger.models import Task, TaskEvent


def step_scope(*, task: Task, definition: kernel.Workflow) -> core_scope.ClientScope:
    """The scope the steps of `task` read in: its message's sender's client, or none."""
    if definition.scope_client_key:
        return _client_scope(task=task, key=definition.scope_client_key)
    key = definition.scope_message_key
    if not key:
        return core_scope.scope_none()
    message_pk = (task.input or {}).get(key)
    if not isinstance(message_pk, int):
        raise kernel.NeedsReview(f"The task's input has no message under {key!r}: nobody to work for.")
    try:
        return core_scope.scope_for_message(message_pk=message_pk)
    except Message.DoesNotExist:
        raise kernel.NeedsReview(f"Message {message_pk} is gone: nothing to answer.") from None


def _client_scope(*, task: Task, key: str) -> core_scope.ClientScope:
    if task.requested_by_kind == Task.Requester.CONNECTOR:
        raise kernel.NeedsReview("Work started from outside may not name the client it reads.")
    client_pk = (task.input or {}).get(key)
    if client_pk is None:
        return core_scope.scope_none()
    if not isinstance(client_pk, int):
        raise kernel.NeedsReview(f"The task's input names no client under {key!r}.")
    try:
        return core_scope.scope_for_client(client_pk=client_pk)
    except core_scope.ScopeError as exc:
        raise kernel.NeedsReview(str(exc)) from None


def recorded_scope(*, task: Task, step: str, definition: kernel.Workflow) -> core_scope.ClientScope:
    """The scope a finished step ran in, as its step_started event recorded it (a replay reads the same
    records the run did, even if the sender has become a client since)."""
    event = (
        TaskEvent.objects.filter(task=task, kind=TaskEvent.Kind.STEP_STARTED, step=step)
        .order_by("-pk")
        .first()
    )
    data: dict[str, Any] = (event.data or {}).get("scope") if event else None
    if not data:
        return step_scope(task=task, definition=definition)
    return core_scope.scope_restore(data)
