"""Reads of the ledger for pages, reports and agents."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from decimal import Decimal

from django.db.models import Case, Count, Prefetch, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils.dateparse import parse_datetime

from ledger.models import Action, ApprovalRequest, AutonomySuggestion, LLMCall, Notice, Task, TaskEvent

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


# --- Approval queue -----------------------------------------------------------------------------


def approval_queue(*, status: str = "pending") -> QuerySet:
    """Approval requests, most urgent and oldest first, with what a list row shows: a fixed number of
    queries whatever the queue's length."""
    return (
        ApprovalRequest.objects.filter(status=status)
        .select_related("action", "task", "decided_by")
        .order_by("-urgency", "created_at", "pk")
    )


def approval_detail(*, approval_id: int):
    """One request with its action, task, the task's memory recalls and LLM cost. Raises DoesNotExist."""
    return (
        ApprovalRequest.objects.select_related("action", "task", "decided_by", "task__requested_by_user")
        .prefetch_related("task__memory_recalls")
        .get(pk=approval_id)
    )


def approval_counts() -> dict[str, int]:
    return dict(ApprovalRequest.objects.order_by().values_list("status").annotate(n=Count("pk")))


def autonomy_suggestions_open() -> list[AutonomySuggestion]:
    """Open suggestions, newest first: the approval queue points the operator at them."""
    return list(
        AutonomySuggestion.objects.filter(status=AutonomySuggestion.Status.OPEN).order_by("-created_at")
    )


def dead_letters(*, limit: int = 50) -> list[Task]:
    return list(Task.objects.filter(status=Task.Status.DEAD).order_by("-updated_at")[:limit])


def action_get(*, action_id: int) -> Action:
    return Action.objects.select_related("task").get(pk=action_id)


def reversal_tasks(*, action_ids: list[int]) -> dict[int, Task]:
    """The reversal task asked for each of these actions, if any (one query)."""
    if not action_ids:
        return {}
    tasks = Task.objects.filter(workflow="record.revert", input__action_id__in=action_ids).order_by(
        "created_at"
    )
    return {task.input["action_id"]: task for task in tasks}


def intake_lead_times(*, limit: int = 1000) -> dict:
    """Lead time of the intake stream: mail received → proposal waiting for approval, over the latest
    `limit` proposals (seconds; nearest-rank percentiles). One query."""
    rows = (
        ApprovalRequest.objects.filter(action__kind="proposal.send")
        .order_by("-created_at")
        .values_list("created_at", "action__source")[:limit]
    )
    seconds = []
    for asked_at, source in rows:
        received = parse_datetime((source or {}).get("received_at") or "")
        if received is not None:
            seconds.append(max((asked_at - received).total_seconds(), 0.0))
    if not seconds:
        return {"count": 0, "p50": None, "p95": None}
    ordered = sorted(seconds)

    def rank(share: float) -> float:
        return ordered[max(0, math.ceil(len(ordered) * share) - 1)]

    return {"count": len(ordered), "p50": rank(0.5), "p95": rank(0.95)}


def duration_label(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def notices_open(*, limit: int = 20) -> list[Notice]:
    """Open notices, the most serious and the newest first."""
    order = Case(
        When(level=Notice.Level.ERROR, then=Value(0)),
        When(level=Notice.Level.WARNING, then=Value(1)),
        default=Value(2),
    )
    return list(Notice.objects.filter(resolved_at__isnull=True).order_by(order, "-updated_at", "-id")[:limit])
