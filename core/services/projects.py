"""Projects and their deliverables."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import Client, Deliverable, Project
from core.services._common import User, _apply, _check_dates, _currency_or_default, _save
from core.services.deletion import _delete

PROJECT_FIELDS = ("name", "status", "budget", "currency", "start_date", "due_date", "description")


@transaction.atomic
def project_create(*, client: Client, by: User, name: str, **data: Any) -> Project:
    project = Project(client=client, currency=_currency_or_default(data, client))
    _apply(project, {"name": name, **data}, allowed=PROJECT_FIELDS)
    _check_dates(project.start_date, project.due_date, end_field="due_date", what="due date")
    return _save(project, by=by)


@transaction.atomic
def project_update(*, project: Project, by: User, **data: Any) -> Project:
    changed = _apply(project, data, allowed=PROJECT_FIELDS)
    _check_dates(project.start_date, project.due_date, end_field="due_date", what="due date")
    return _save(project, by=by, update_fields=changed)


DELIVERABLE_FIELDS = ("title", "status", "due_date", "estimate_hours")


@transaction.atomic
def deliverable_create(*, project: Project, by: User, title: str, **data: Any) -> Deliverable:
    deliverable = Deliverable(project=project)
    _apply(deliverable, {"title": title, **data}, allowed=DELIVERABLE_FIELDS)
    return _save(deliverable, by=by)


@transaction.atomic
def deliverable_update(*, deliverable: Deliverable, by: User, **data: Any) -> Deliverable:
    changed = _apply(deliverable, data, allowed=DELIVERABLE_FIELDS)
    return _save(deliverable, by=by, update_fields=changed)


@transaction.atomic
def project_delete(*, project: Project, by: User) -> None:
    project = Project.objects.select_for_update().get(pk=project.pk)
    _delete(project, by=by, cascade=list(project.deliverables.all()))


@transaction.atomic
def deliverable_delete(*, deliverable: Deliverable, by: User) -> None:
    _delete(deliverable, by=by)
