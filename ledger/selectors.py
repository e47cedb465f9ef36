"""Reads of the ledger for pages, reports and agents."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.db.models.functions import Coalesce

from ledger.models import Action, LLMCall, Task, TaskEvent

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


def task_list(*, status: str | None = None, workflow: str | None = None) -> QuerySet[Task]:
    """Tasks, newest first, with their requesting user (one query per page)."""
    tasks = Task.objects.select_related("requested_by_user").order_by("-created_at", "-pk")
    if status:
        tasks = tasks.filter(status=status)
    if workflow:
        tasks = tasks.filter(workflow=workflow)
    return tasks


def task_with_record(*, task_id: uuid.UUID) -> Task:
    """One task with its timeline, actions (with their outbox emails) and LLM calls: four queries, however
    long the record is. Raises Task.DoesNotExist."""
    return (
        Task.objects.select_related("requested_by_user")
        .prefetch_related(
            Prefetch("events", queryset=TaskEvent.objects.order_by("id")),
            Prefetch(
                "actions",
                queryset=Action.objects.select_related("decided_by", "outbox_email").order_by(
                    "created_at", "id"
                ),
            ),
            Prefetch("llm_calls", queryset=LLMCall.objects.order_by("created_at", "id")),
        )
        .get(pk=task_id)
    )


def requester_label(task: Task) -> str:
    """Who asked for the task, in a few words: a user name, a parent task, or "connector:imap"."""
    if task.requested_by_user_id is not None:
        return task.requested_by_user.get_username()
    if task.parent_id is not None:
        return f"task {str(task.parent_id)[:8]}"
    if task.requested_by_ref:
        return f"{task.requested_by_kind}:{task.requested_by_ref}"
    return task.requested_by_kind
