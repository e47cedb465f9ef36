"""Action templates."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import ActionTemplate
from core.services._common import User, _apply, _save
from core.services.deletion import _delete

TEMPLATE_FIELDS = ("name", "kind", "subject", "body", "active")


@transaction.atomic
def action_template_upsert(*, key: str, by: User, **data: Any) -> tuple[ActionTemplate, bool]:
    template = ActionTemplate.objects.select_for_update().filter(key=key).first()
    created = template is None
    template = template or ActionTemplate(key=key)
    before = {field: getattr(template, field) for field in data if field in TEMPLATE_FIELDS}
    _apply(template, data, allowed=TEMPLATE_FIELDS)
    if not created and before == {field: getattr(template, field) for field in before}:
        return template, False
    _save(template, by=by, update_fields=None if created else list(data))
    return template, True


@transaction.atomic
def action_template_delete(*, template: ActionTemplate, by: User) -> None:
    _delete(template, by=by)
