"""Delivery policies: how long and how often an email that could not be delivered is tried again."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.models import Policy
from ledger.policy.params import DeliveryParams
from ledger.policy.store import policies_enabled


def delivery_rules(policies: list[Policy] | None = None) -> tuple[DeliveryParams, Policy | None]:
    """The delivery rules in force and the policy they come from (None: the built-in defaults).

    Of several enabled delivery policies the one that retries longest wins: giving up on a client's mail
    is the outcome to avoid. `policies` replaces the enabled ones (the editor's preview passes a draft)."""
    best: tuple[DeliveryParams, Policy | None] = (DeliveryParams(), None)
    for policy in policies_enabled(Policy.Kind.DELIVERY) if policies is None else policies:
        params = DeliveryParams.model_validate(policy.params)
        if best[1] is None or params.retry_hours > best[0].retry_hours:
            best = (params, policy)
    return best


def delivery_backoff(*, rules: DeliveryParams, failures: int) -> timedelta:
    """The wait after the `failures`-th failed try: first · 2^(failures-1), capped; no jitter, so the
    notice can say exactly when the next try is (a one-person workspace has no thundering herd)."""
    seconds = rules.first_retry_seconds * 2 ** max(failures - 1, 0)
    return timedelta(seconds=min(rules.max_retry_seconds, seconds))


def delivery_gives_up_at(*, rules: DeliveryParams, first_failed_at: datetime) -> datetime:
    return first_failed_at + timedelta(hours=rules.retry_hours)
