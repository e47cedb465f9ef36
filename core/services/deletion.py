"""Deleting records.

Records that carry business history (a client with invoices, a project with conversations) are
never deleted: the operator marks them past or cancelled instead. Only mistakes and drafts go.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from core.models import Client, Contract, Invoice, Project, Proposal
from core.services._common import User, _stamp


def _delete_blockers(record: models.Model) -> dict[str, str]:
    """What keeps `record` from being deleted: {relation: human reason}. Empty means it may go."""
    blockers: dict[str, str] = {}
    if isinstance(record, Client):
        relations = (
            "projects",
            "proposals",
            "invoices",
            "contracts",
            "conversations",
            "decisions",
            "artifacts",
        )
    elif isinstance(record, Project):
        relations = ("proposals", "invoices", "contracts", "conversations", "decisions", "artifacts")
    elif isinstance(record, Proposal):
        relations = ("invoices",)
        if record.status != Proposal.Status.DRAFT:
            blockers["status"] = f"it is {record.get_status_display().lower()}; only drafts can be deleted"
    elif isinstance(record, Invoice):
        relations = ()
        if record.status != Invoice.Status.DRAFT:
            blockers["status"] = f"{record.number} is issued; void it instead"
    elif isinstance(record, Contract):
        relations = ()
        if record.status != Contract.Status.DRAFT:
            blockers["status"] = f"it is {record.get_status_display().lower()}; only drafts can be deleted"
    else:
        relations = ()
    for relation in relations:
        if getattr(record, relation).exists():
            blockers[relation] = (
                f"it has {record._meta.get_field(relation).related_model._meta.verbose_name_plural}"
            )
    return blockers


def record_delete_check(*, record: models.Model) -> None:
    """Raise a ValidationError saying why `record` cannot be deleted, if it cannot."""
    blockers = _delete_blockers(record)
    if blockers:
        advice = {
            Client: " Set its status to past instead.",
            Project: " Set its status to cancelled or completed instead.",
        }.get(type(record), "")
        raise ValidationError(f"{record} cannot be deleted: {'; '.join(blockers.values())}.{advice}")


def _delete(record: models.Model, *, by: User, cascade: str = "") -> None:
    """Delete `record` (locked first, so a concurrent change waits and the checks read the current
    row) and the rows of its `cascade` relation, each with a history row naming `by`."""
    record = type(record).objects.select_for_update().get(pk=record.pk)
    record_delete_check(record=record)
    for child in getattr(record, cascade).all() if cascade else ():
        _stamp(child, by)
        child.delete()
    _stamp(record, by)
    record.delete()
