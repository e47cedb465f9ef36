"""Asking for a client's data to be exported or erased: a task, then an approval, then the commit."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError

from core import clock
from core.models import Client
from ledger.models import Action, Task
from ledger.services.submit import task_submit

KINDS = ("export", "erase")


def client_data_request(*, client: Client, kind: str, by: AbstractBaseUser) -> Task:
    """Start `client.export` or `client.erase` for the client; an unfinished request of the same kind is
    returned instead of a second one."""
    if kind not in KINDS:
        raise ValidationError({"kind": f"Unknown request {kind!r}: export or erase."})
    workflow = f"client.{kind}"
    open_task = (
        Task.objects.filter(workflow=workflow, input__client_id=client.pk, mode=Task.Mode.LIVE)
        .exclude(status__in=[Task.Status.SUCCEEDED, Task.Status.CANCELLED])
        .order_by("-created_at")
        .first()
    )
    if open_task is not None:
        return open_task
    return task_submit(
        workflow=workflow,
        input={"client_id": client.pk},
        idempotency_key=f"{workflow}:{client.pk}:{clock.now().isoformat()}",
        requested_by=by,
    )


def client_export_file(*, task: Task) -> dict | None:
    """The result of a committed export of this task ({path, size, sha256, …}), or None."""
    action = task.actions.filter(kind="client.export", status=Action.Status.COMMITTED).first()
    return action.result if action and action.result else None
