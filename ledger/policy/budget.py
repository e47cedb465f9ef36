"""Budget policies: may a request to a model go ahead (OK), must the work wait (DEFER), or use a
cheaper tier (DOWNGRADE)?"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from core import clock
from ledger.models import LLMCall, Policy
from ledger.policy.params import BudgetParams
from ledger.policy.store import policies_enabled

OK = "ok"
DEFER = "defer"
DOWNGRADE = "downgrade"


@dataclass(frozen=True)
class BudgetVerdict:
    state: str  # ok, defer, downgrade
    reason: str = ""
    tier: str | None = None  # downgrade: the tier to use instead ("fast" or "rules")
    policies: list[dict[str, Any]] = field(default_factory=list)


def month_start(now: dt.datetime | None = None) -> dt.datetime:
    local = timezone.localtime(now or clock.now(), ZoneInfo(settings.TIME_ZONE))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def llm_spend(*, since: dt.datetime, agent: str | None = None) -> Decimal:
    calls = LLMCall.objects.filter(created_at__gte=since)
    if agent is not None:
        calls = calls.filter(agent=agent)
    return calls.aggregate(total=Sum("cost"))["total"] or Decimal("0")


def budgets_reached(*, agent: str, now: dt.datetime | None = None) -> list[tuple[Policy, Decimal]]:
    """The enabled budget policies whose cap this month's spend has reached, with that spend."""
    since = month_start(now)
    reached = []
    totals: dict[str | None, Decimal] = {}
    for policy in policies_enabled(Policy.Kind.BUDGET):
        params = BudgetParams.model_validate(policy.params)
        who = params.agent if params.scope == "agent" else None
        if who is not None and who != agent:
            continue
        if who not in totals:
            totals[who] = llm_spend(since=since, agent=who)
        if totals[who] >= params.monthly_cap:
            reached.append((policy, totals[who]))
    return reached


def budget_check(*, agent: str, tier: str, critical: bool, now: dt.datetime | None = None) -> BudgetVerdict:
    """Before a request to a model: may it go ahead, must the work wait, or use a cheaper tier?"""
    reached = budgets_reached(agent=agent, now=now)
    if not reached:
        return BudgetVerdict(OK)
    refs = [policy.ref for policy, _ in reached]
    spent = "; ".join(
        f"{policy.name!r}: {total} of {policy.params['monthly_cap']} USD" for policy, total in reached
    )
    if not critical:
        return BudgetVerdict(DEFER, f"LLM budget reached ({spent}); non-critical work waits.", None, refs)
    cheapest = "rules"
    if all(BudgetParams.model_validate(policy.params).critical == "cheaper" for policy, _ in reached):
        cheapest = "fast" if tier == "quality" else "rules"
    return BudgetVerdict(
        DOWNGRADE, f"LLM budget reached ({spent}); critical work drops to {cheapest}.", cheapest, refs
    )
