"""The committer registry: which action kinds the ledger can commit, with what effect, and how.

A committer runs inside the commit transaction of its action (with the task row locked and our claim
verified) and returns a JSON result. Canonical changes go through `core.services` under
`history_reason("task …")`, so the history names the task. External effects only write an outbox row;
delivery happens after the commit (ledger.outbox). The effect classes are declared here, next to the
committers that declare them, and read by the policy engine (ledger.policy).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from agents.kernel.errors import schema_data_validate
from core import services as core_services
from ledger.models import Action, OutboxEmail, Task

# Effect classes of action kinds.
# The workspace's own bookkeeping (memory, holding reminders back): nothing leaves, no money moves.
INTERNAL = "internal"
RECORD = "record"  # a canonical record changes
MONEY = "money"  # a money record changes (payments, marking paid, voids, refunds)
EXTERNAL = "external"  # something leaves the workspace (email, webhook call)
DELETE = "delete"  # a record is deleted
PERSONAL = "personal"  # a client's personal data is handed over (export) or erased
EFFECTS = (RECORD, MONEY, EXTERNAL, DELETE, PERSONAL)
# Effects that always need the operator, whatever the policies say (ledger.policy.floors).
FLOORED = (MONEY, DELETE, PERSONAL)

# (the action's payload as the model its `payload` parameter names, the action, its task) -> the result
Committer = Callable[[Any, Action, Task], dict[str, Any]]
# Called (with the payload as its committer got it) once the email an action put in the outbox was
# delivered (the record says "sent" only then).
Delivered = Callable[[Any, Action, OutboxEmail], None]


@dataclass(frozen=True)
class Registered:
    function: Committer
    effect: str  # an effect class: internal, record, money, external, delete, personal
    payload: type[BaseModel]  # validates the payload (and the operator's edits of it)
    # A record change can be reverted from the task page; sent email, deletions and money changes cannot.
    reversible: bool = False
    irreversible_note: str = ""
    delivered: Delivered | None = None


_COMMITTERS: dict[str, Registered] = {}


def committer(
    kind: str,
    *,
    effect: str,
    reversible: bool = False,
    irreversible_note: str = "",
    delivered: Delivered | None = None,
) -> Callable[[Committer], Committer]:
    """Register `function` as what commits `kind`. Its payload model is the annotation of its `payload`
    parameter, so it is declared once: the registry validates the action's payload with it before calling
    the committer (or the delivered hook), and checks the operator's edits against it."""

    def register(function: Committer) -> Committer:
        _COMMITTERS[kind] = Registered(
            function, effect, _payload_model(function), reversible, irreversible_note, delivered
        )
        return function

    return register


def _payload_model(function: Committer) -> type[BaseModel]:
    model = inspect.signature(function, eval_str=True).parameters["payload"].annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{function.__qualname__}: annotate `payload` with the pydantic model it takes")
    return model


def committer_exists(kind: str) -> bool:
    return kind in _COMMITTERS


def committer_effect(kind: str) -> str | None:
    registered = _COMMITTERS.get(kind)
    return registered.effect if registered else None


def committer_kinds() -> list[str]:
    return sorted(_COMMITTERS)


def committer_reversible(kind: str) -> bool:
    registered = _COMMITTERS.get(kind)
    return bool(registered and registered.reversible)


def committer_irreversible_note(kind: str) -> str:
    registered = _COMMITTERS.get(kind)
    if registered is None or registered.reversible:
        return ""
    return registered.irreversible_note or "This effect cannot be reverted from here."


def payload_validate(*, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as its committer will read it, or a ValidationError naming each bad field."""
    registered = _COMMITTERS.get(kind)
    if registered is None:
        raise ValidationError({"kind": f"No committer knows how to carry out {kind!r}."})
    return schema_data_validate(registered.payload, payload, prefix="", root="payload")


M = TypeVar("M", bound=Model)


def row_or_none(model: type[M], pk: int | None) -> M | None:
    """The row an optional id in a payload names; None when the payload names none or the row is gone."""
    return model.objects.filter(pk=pk).first() if pk else None


def _payload_of(action: Action, registered: Registered) -> BaseModel:
    try:
        return registered.payload.model_validate(action.payload)
    except PydanticValidationError as exc:
        raise ValidationError(f"{action.kind} payload is invalid: {exc}") from None


def action_commit(*, action: Action, task: Task) -> dict[str, Any]:
    registered = _COMMITTERS[action.kind]
    payload = _payload_of(action, registered)
    with core_services.history_reason(f"task {task.pk} ({task.workflow})"):
        return registered.function(payload, action, task)


def action_delivered(*, action: Action, email: OutboxEmail) -> None:
    """What the action's record does once its email was delivered (idempotent: called again after a
    crash between the delivery and this)."""
    registered = _COMMITTERS.get(action.kind)
    if registered is None or registered.delivered is None:
        return
    payload = _payload_of(action, registered)
    with core_services.history_reason(f"task {action.task_id} (delivered)"):
        registered.delivered(payload, action, email)
