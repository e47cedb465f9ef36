"""Retention policies: how long memory of a tier (and kind) is kept."""

from __future__ import annotations

from ledger.models import Policy
from ledger.policy.params import RetentionParams
from ledger.policy.store import policies_enabled


def retention_rules_from_policies(
    policies: list[Policy] | None = None,
) -> dict[tuple[str, str | None], int]:
    """{(tier, kind or None): days} from the enabled retention policies; the shortest wins per key.

    `policies` replaces the enabled retention policies (the editor's preview passes a draft)."""
    rules: dict[tuple[str, str | None], int] = {}
    for policy in policies_enabled(Policy.Kind.RETENTION) if policies is None else policies:
        params = RetentionParams.model_validate(policy.params)
        key = (params.tier, params.kind or None)
        rules[key] = min(rules.get(key, params.days), params.days)
    return rules
