"""Action templates."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import ActionTemplate
from core.services._common import User, _upsert
from core.services.deletion import _delete

TEMPLATE_FIELDS = ("name", "kind", "subject", "body", "active")


@transaction.atomic
def action_template_upsert(*, key: str, by: User, **data: Any) -> tuple[ActionTemplate, bool]:
    """Create or update the template with this key; returns (template, changed)."""
    return _upsert(ActionTemplate, lookup={"key": key}, data=data, allowed=TEMPLATE_FIELDS, by=by)


@transaction.atomic
def action_template_delete(*, template: ActionTemplate, by: User) -> None:
    _delete(template, by=by)
