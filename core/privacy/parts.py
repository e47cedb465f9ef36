"""Who holds a client's data: each app registers one part that exports it and erases it.

Core is the bottom layer and cannot read the ledger's tasks or the connectors' raw mail, yet an export must
contain them and an erase must reach them. So each app that stores data about clients registers a
`ClientDataPart` in its `AppConfig.ready` (core's own part is registered by core) — the same inversion as
the ports in `core.ports`, with several implementations instead of one. `models` names every table a part
answers for: tests/core/test_client_data.py walks every model with a foreign-key path to `Client` and fails
when one is answered for by no part, so a new model cannot silently escape export and erasure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models

if TYPE_CHECKING:
    from core.privacy.bundle import ExportBundle
    from core.privacy.scope import ClientScope


@dataclass(frozen=True)
class ClientDataPart:
    name: str
    # Writes this part's records and files about the client into the bundle; returns {section: rows}.
    export: Callable[[ClientScope, ExportBundle], dict[str, int]]
    # Removes or anonymises this part's personal data about the client (inside the erase transaction),
    # for the operator who approved (`by`); returns {what: how many}.
    erase: Callable[..., dict[str, int]]
    # How much this part holds about the client: {what: how many} (shown before the operator approves).
    inventory: Callable[[ClientScope], dict[str, int]]
    # The tables this part answers for (a function: model classes exist only once apps are loaded).
    models: Callable[[], tuple[type[models.Model], ...]] = tuple
    # Erasing runs from the highest layer down: a part's scope (tasks about the client's messages, mail
    # of the client's conversations) is read before core deletes the records it is found through.
    order: int = 0


_PARTS: dict[str, ClientDataPart] = {}


def client_data_part_register(part: ClientDataPart) -> None:
    _PARTS[part.name] = part


def client_data_parts() -> list[ClientDataPart]:
    """Highest layer first (that is also the erasing order)."""
    return sorted(_PARTS.values(), key=lambda part: (-part.order, part.name))


def models_answered_for() -> set[type[models.Model]]:
    return {model for part in _PARTS.values() for model in part.models()}


def client_linked_models() -> set[type[models.Model]]:
    """Every installed model with a path of foreign keys (or one-to-ones) to `Client`, history and
    many-to-many tables included."""
    from django.apps import apps

    from core.models import Client

    linked: set[type[models.Model]] = {Client}
    candidates = [model for model in apps.get_models(include_auto_created=True) if model is not Client]
    grew = True
    while grew:
        grew = False
        for model in candidates:
            if model in linked:
                continue
            for model_field in model._meta.concrete_fields:
                if model_field.is_relation and model_field.related_model in linked:
                    linked.add(model)
                    grew = True
                    break
    return linked


def blank_for(model_field: models.Field) -> Any:
    """The empty value of a field: what personal data is replaced with."""
    if isinstance(model_field, models.JSONField):
        default = model_field.default
        return default() if callable(default) else (default if default is not models.NOT_PROVIDED else None)
    if model_field.null and not isinstance(model_field, (models.CharField, models.TextField)):
        return None
    return ""
