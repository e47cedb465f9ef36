"""Reads of the ledger for pages, reports and agents."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from ledger.models import LLMCall, Task

ZERO = Decimal("0")


def llm_cost_summary(*, since: dt.datetime, until: dt.datetime) -> dict:
    """LLM spend in [since, until): totals, per agent and per model, in a fixed number of queries."""
    # Rows that made no request (rules, cache hits, calls blocked by the budget) cost nothing and are
    # not calls to a model.
    calls = LLMCall.objects.filter(created_at__gte=since, created_at__lt=until).exclude(
        outcome__in=("rules", "cache", "blocked")
    )
    totals = calls.aggregate(
        cost=Coalesce(Sum("cost"), ZERO),
        calls=Count("pk"),
        tokens_in=Coalesce(Sum("tokens_in"), 0),
        tokens_out=Coalesce(Sum("tokens_out"), 0),
    )

    def grouped(field: str) -> list[dict]:
        rows = calls.values(field).annotate(cost=Sum("cost"), calls=Count("pk")).order_by("-cost", field)
        return [
            {"name": row[field] or "(none)", "cost": str(row["cost"]), "calls": row["calls"]} for row in rows
        ]

    return {
        "cost": str(totals["cost"]),
        "calls": totals["calls"],
        "tokens_in": totals["tokens_in"],
        "tokens_out": totals["tokens_out"],
        "by_agent": grouped("agent"),
        "by_model": grouped("model"),
        "tasks": Task.objects.filter(created_at__gte=since, created_at__lt=until).count(),
    }
