"""Saving policies (versioned, with their history) and reading the enabled ones."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from ledger.models import Policy
from ledger.policy.params import policy_params_validate


def policy_save(
    *,
    policy: Policy | None = None,
    by: AbstractBaseUser | None,
    name: str,
    kind: str,
    params: dict[str, Any],
    enabled: bool = True,
    description: str = "",
    reason: str = "",
) -> Policy:
    """Create or change a policy: parameters validated per kind, version bumped, history row written."""
    clean = policy_params_validate(kind=kind, params=params)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A policy needs a name."})
    with transaction.atomic():
        if policy is None or policy.pk is None:
            policy = policy or Policy()
            policy.version = 1
        else:
            policy = Policy.objects.select_for_update().get(pk=policy.pk)
            if policy.kind != kind:
                raise ValidationError({"kind": "A policy keeps its kind; create a new one instead."})
            policy.version += 1
        clash = Policy.objects.filter(name=name).exclude(pk=policy.pk).exists()
        if clash:
            raise ValidationError({"name": f"Another policy is named {name!r}."})
        policy.name, policy.kind, policy.params = name, kind, clean
        policy.enabled, policy.description = enabled, description
        policy.updated_by = by
        policy._history_user = by
        if reason:
            policy._change_reason = reason[:100]
        policy.save()
    return policy


def policies_enabled(kind: str) -> list[Policy]:
    return list(Policy.objects.filter(kind=kind, enabled=True).order_by("pk"))
