"""Submitting work: one task per idempotency key, handed to django-q2 once it is committed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django_q.tasks import async_task

from agents import kernel
from core.dbcopy import rows_copy, rows_insert_new
from ledger.models import Task, TaskEvent
from ledger.services.events import task_event


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
    async_task("ledger.tasks.task_run", str(task_id), task_name=f"task {task_id}", group="ledger")


ENQUEUE_CHUNK = 500


def tasks_submit_many(
    *,
    workflow: str,
    items: list[tuple[str, Mapping[str, Any]]],
    requested_by: Any,
    mode: str = Task.Mode.LIVE,
) -> list[uuid.UUID]:
    """Many tasks of one workflow, each `(idempotency_key, input)`, in a few statements: the tasks whose key
    is new are created (a key seen before is skipped, as `task_submit` would return the existing task) and
    handed to django-q2 after commit in chunks, so a statement of ten thousand lines is not ten thousand
    round trips. Every input is validated first: one bad input refuses the whole batch. Returns the ids of
    the tasks created.

    The tasks and their events are written with COPY (core.dbcopy) and no Task objects are built:
    `bulk_create` and the objects took longer than the database took to store the rows."""
    if not items:
        return []
    if any(not (key or "").strip() for key, _ in items):
        raise ValidationError(
            {"idempotency_key": "Every trigger carries a key (Message-ID, event id, slot)."}
        )
    try:
        definition = kernel.workflow_get(workflow)
    except kernel.RegistryError as exc:
        raise ValidationError({"workflow": str(exc)}) from None
    requester = {
        Task._meta.get_field(name).attname: value.pk if isinstance(value, Model) else value
        for name, value in _requester(requested_by).items()
    }
    fixed = (workflow, mode, definition.max_attempts or settings.AIOS_TASK_MAX_ATTEMPTS, *requester.values())
    fresh: dict[str, tuple[Any, ...]] = {}
    for key, data in items:
        if key not in fresh:
            fresh[key] = (uuid.uuid4(), key, kernel.workflow_input_validate(definition, data), *fixed)
    with transaction.atomic():
        # A key already there (submitted before, or by a concurrent submit) is skipped by the insert.
        created = [
            task_id
            for (task_id,) in rows_insert_new(
                model=Task,
                fields=("id", "idempotency_key", "input", "workflow", "mode", "max_attempts", *requester),
                rows=fresh.values(),
                returning=("pk",),
            )
        ]
        event = {"requested_by": str(requested_by)[:200]}
        rows_copy(
            model=TaskEvent,
            fields=("task_id", "kind", "attempt", "data"),
            rows=((task_id, TaskEvent.Kind.CREATED, 0, event) for task_id in created),
        )
        ids = [str(task_id) for task_id in created]
        transaction.on_commit(lambda: tasks_enqueue_many(task_ids=ids))
    return created


def tasks_enqueue_many(*, task_ids: list[str]) -> None:
    """A few tasks are handed over one by one; many go to the worker in chunks, which hands them over
    there (`ledger.tasks.tasks_enqueue`), so the submitter does not wait for thousands of queue inserts.
    A chunk lost on the way is found by the sweep like any queued task nobody picked up."""
    if len(task_ids) <= 20:
        for task_id in task_ids:
            task_enqueue(task_id=uuid.UUID(task_id))
        return
    for start in range(0, len(task_ids), ENQUEUE_CHUNK):
        chunk = task_ids[start : start + ENQUEUE_CHUNK]
        async_task(
            "ledger.tasks.tasks_enqueue", chunk, task_name=f"enqueue {len(chunk)} tasks", group="ledger"
        )
