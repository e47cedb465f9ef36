"""Changes to a record named by label (the ledger's committers make them), and their reversal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from core.models import Client, Contact, Deliverable, Note, Project
from core.services._common import User
from core.services.clients import (
    CLIENT_FIELDS,
    CONTACT_FIELDS,
    DELIVERABLE_FIELDS,
    PROJECT_FIELDS,
    client_delete,
    client_update,
    contact_delete,
    contact_update,
    deliverable_delete,
    deliverable_update,
    project_delete,
    project_update,
)
from core.services.conversations import note_delete


@dataclass(frozen=True)
class _Updatable:
    model: type[models.Model]
    update: Any  # the entity's update service
    argument: str  # its keyword for the record
    fields: tuple[str, ...]


def _updatable() -> dict[str, _Updatable]:
    return {
        "core.client": _Updatable(Client, client_update, "client", CLIENT_FIELDS),
        "core.contact": _Updatable(Contact, contact_update, "contact", CONTACT_FIELDS),
        "core.project": _Updatable(Project, project_update, "project", PROJECT_FIELDS),
        "core.deliverable": _Updatable(Deliverable, deliverable_update, "deliverable", DELIVERABLE_FIELDS),
    }


def _updatable_get(label: str) -> _Updatable:
    entry = _updatable().get(label)
    if entry is None:
        allowed = ", ".join(sorted(_updatable()))
        raise ValidationError({"model": f"{label!r} cannot be changed this way; one of {allowed}."})
    return entry


def _latest_history_id(record: models.Model) -> int | None:
    latest = record.history.order_by("-history_id").values_list("history_id", flat=True).first()
    return latest


@dataclass(frozen=True)
class RecordChange:
    """One record change with the history rows before and after it (what a reversal needs)."""

    model: str
    pk: int
    before_history_id: int | None
    history_id: int | None
    fields: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@transaction.atomic
def record_update(*, label: str, pk: int, fields: Mapping[str, Any], by: User) -> RecordChange:
    """Change fields of a client, contact, project or deliverable through its own update service."""
    entry = _updatable_get(label)
    record = entry.model.objects.select_for_update().filter(pk=pk).first()
    if record is None:
        raise ValidationError({"pk": f"{label} #{pk} does not exist."})
    before = _latest_history_id(record)
    entry.update(**{entry.argument: record, "by": by}, **dict(fields))
    return RecordChange(label, pk, before, _latest_history_id(record), dict(fields))


def _history_value(row: models.Model, field: str) -> Any:
    value = getattr(row, field)
    return str(value) if isinstance(value, Decimal) else value


@transaction.atomic
def record_revert(*, label: str, pk: int, history_id: int, by: User) -> RecordChange:
    """Put a record back as it was before the change that wrote history row `history_id`.

    Refused when the record changed again since: restoring then would silently undo the later change.
    """
    entry = _updatable_get(label)
    record = entry.model.objects.select_for_update().filter(pk=pk).first()
    if record is None:
        raise ValidationError({"pk": f"{label} #{pk} no longer exists; there is nothing to revert."})
    after = record.history.filter(history_id=history_id).first()
    if after is None:
        raise ValidationError({"history_id": f"{label} #{pk} has no history row {history_id}."})
    latest = _latest_history_id(record)
    if latest != history_id:
        raise ValidationError(
            f"{record} changed again after this change (history row {latest}); revert the later change "
            "first, or edit the record by hand."
        )
    before = after.prev_record
    if before is None:
        raise ValidationError(f"{record} has no earlier version to go back to.")
    restore = {
        field: _history_value(before, field)
        for field in entry.fields
        if _history_value(before, field) != _history_value(after, field)
    }
    entry.update(**{entry.argument: record, "by": by}, **restore)
    return RecordChange(label, pk, latest, _latest_history_id(record), restore)


def record_version_fields(*, label: str, history_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(before, after) field values around the change that wrote `history_id` (for pages and agents)."""
    entry = _updatable_get(label)
    after = entry.model.history.filter(history_id=history_id).first()
    if after is None:
        raise ValidationError({"history_id": f"No history row {history_id} for {label}."})
    before = after.prev_record
    fields = entry.fields
    return (
        {field: _history_value(before, field) for field in fields} if before is not None else {},
        {field: _history_value(after, field) for field in fields},
    )


def _deletable() -> dict[str, tuple[type[models.Model], Any, str]]:
    return {
        "core.client": (Client, client_delete, "client"),
        "core.contact": (Contact, contact_delete, "contact"),
        "core.project": (Project, project_delete, "project"),
        "core.deliverable": (Deliverable, deliverable_delete, "deliverable"),
        "core.note": (Note, note_delete, "note"),
    }


def record_delete(*, label: str, pk: int, by: User) -> None:
    """Delete a record through its own delete service (which refuses records with business history)."""
    entry = _deletable().get(label)
    if entry is None:
        raise ValidationError({"model": f"{label!r} cannot be deleted this way."})
    model, delete, argument = entry
    record = model.objects.filter(pk=pk).first()
    if record is None:
        raise ValidationError({"pk": f"{label} #{pk} does not exist."})
    delete(**{argument: record, "by": by})
