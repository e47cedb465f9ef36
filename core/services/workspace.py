"""Configuring the workspace."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import Workspace
from core.services._common import User, _apply, _save

WORKSPACE_FIELDS = (
    "name",
    "operator_name",
    "operator_email",
    "invoice_prefix",
    "default_currency",
    "payment_terms_days",
)


@transaction.atomic
def workspace_configure(*, by: User, **data: Any) -> Workspace:
    workspace = Workspace.objects.select_for_update().filter(pk=1).first() or Workspace(pk=1)
    changed = _apply(workspace, data, allowed=WORKSPACE_FIELDS)
    return _save(workspace, by=by, update_fields=changed if workspace._state.adding is False else None)
