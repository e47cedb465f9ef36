"""The operator's task pages: recent tasks, and one task's whole story (timeline, actions and their outbox
emails, LLM calls, cost) with the buttons that act on it.

Staff only, like the back office. Each button is a POST that calls one conductor service; a refusal
(a task in the wrong state, an action already decided) becomes a message on the page, never an error.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.display import json_pretty
from core.http import staff_required
from ledger import approvals, commit, selectors, services
from ledger.buttons import button_call, decision_views
from ledger.models import Action, Task, TaskEvent
from ledger.privacy import services as privacy_services

PAGE_SIZE = 50
COST_CURRENCY = "USD"  # the price table's currency; budget policies are in USD too


def cost_label(amount: Decimal) -> str:
    return f"{amount} {COST_CURRENCY}"


def _data_summary(data: dict[str, Any], *, limit: int = 160) -> str:
    """A one-line glimpse of an event's data; the page shows all of it on demand."""
    parts = []
    for key, value in data.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
        parts.append(f"{key}: {text}")
    summary = " · ".join(parts)
    return summary if len(summary) <= limit else summary[: limit - 1] + "…"


def _timeline_entry(event: TaskEvent) -> dict[str, Any]:
    """An event with its data summarised, and in full; a failure's traceback is folded on its own."""
    data = {key: value for key, value in event.data.items() if key != "traceback"}
    return {
        "event": event,
        "summary": _data_summary(data),
        "traceback": event.data.get("traceback", ""),
        "data_json": json_pretty(data) if data else "",
    }


# --- Pages -----------------------------------------------------------------------------------


staff_only = staff_required("The task pages are for staff users.")


def _lead_time() -> dict[str, Any]:
    figures = selectors.intake_lead_times()
    return {
        **figures,
        "p50_label": selectors.duration_label(figures["p50"]),
        "p95_label": selectors.duration_label(figures["p95"]),
    }


@require_GET
@staff_only
def task_list_page(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in Task.Status.values:
        status = ""
    counts = dict(Task.objects.order_by().values_list("status").annotate(n=Count("pk")))
    page = Paginator(selectors.task_list(status=status or None), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "ledger/task_list.html",
        {
            "page": page,
            "rows": [(task, selectors.requester_label(task), cost_label(task.cost)) for task in page],
            "status": status,
            "statuses": [(value, label, counts.get(value, 0)) for value, label in Task.Status.choices],
            "total": sum(counts.values()),
            "lead_time": _lead_time(),
        },
    )


@require_GET
@staff_only
def task_page(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    try:
        task = selectors.task_with_record(task_id=task_id)
    except Task.DoesNotExist:
        raise Http404("No task has this id.") from None
    llm_calls = list(task.llm_calls.all())
    actions = list(task.actions.all())
    reversals = selectors.reversal_tasks(
        action_ids=[action.pk for action in actions if action.status == Action.Status.COMMITTED]
    )
    return render(
        request,
        "ledger/task_detail.html",
        {
            "task": task,
            "requester": selectors.requester_label(task),
            "cost": cost_label(task.cost),
            "input_json": json_pretty(task.input),
            "output_json": json_pretty(task.output) if task.output is not None else "",
            "timeline": [_timeline_entry(event) for event in task.events.all()],
            "actions": [
                {
                    "action": action,
                    "payload_json": json_pretty(action.payload),
                    "result_json": json_pretty(action.result) if action.result is not None else "",
                    "email": getattr(action, "outbox_email", None),
                    "reversal": reversals.get(action.pk),
                    "reversible": commit.committer_reversible(action.kind)
                    and bool((action.result or {}).get("changes"))
                    and task.mode == Task.Mode.LIVE,
                    "irreversible": commit.committer_irreversible_note(action.kind),
                }
                for action in actions
            ],
            "llm_calls": llm_calls,
            "memory_recalls": list(
                task.memory_recalls.select_related("client", "project").order_by("created_at", "pk")
            ),
            "memory_written": task.memory_items.count(),
            "llm_totals": {
                "tokens_in": sum(call.tokens_in for call in llm_calls),
                "tokens_out": sum(call.tokens_out for call in llm_calls),
                "cost": cost_label(sum((call.cost for call in llm_calls), Decimal("0"))),
            },
            "can_retry": task.status == Task.Status.DEAD,
            "can_cancel": task.status in services.CANCELLABLE,
            "task_statuses": Task.Status,
            "action_statuses": Action.Status,
        },
    )


# --- Buttons ---------------------------------------------------------------------------------


def _back_to(task_id: uuid.UUID) -> HttpResponse:
    return redirect(reverse("ledger:task", args=[task_id]))


@require_GET
@staff_only
def task_export_download(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    """The zip of a committed client export (the client's data, handed back)."""
    task = get_object_or_404(Task, pk=task_id)
    result = privacy_services.client_export_file(task=task)
    if result is None or not Path(result["path"]).is_file():
        raise Http404("This task has no export to download (not approved yet, or erased since).")
    response = FileResponse(
        open(result["path"], "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=f"client-{result['client']}-{task.pk}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@staff_only
def task_retry_view(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    task = get_object_or_404(Task, pk=task_id)
    button_call(
        request,
        lambda: services.task_retry(task=task, by=request.user),
        done="The task is back in the queue with a fresh set of attempts.",
    )
    return _back_to(task.pk)


@require_POST
@staff_only
def task_cancel_view(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    """Cancel a task, or discard a dead letter: both stop it for good."""
    task = get_object_or_404(Task, pk=task_id)
    done = "The dead letter is discarded." if task.status == Task.Status.DEAD else "The task is cancelled."
    button_call(
        request,
        lambda: services.task_cancel(task=task, by=request.user, reason=request.POST.get("reason", "")),
        done=done,
    )
    return _back_to(task.pk)


def _action_button(
    request: HttpRequest, change: Callable[..., object], done: str, *, action_id: int, **extra: Any
) -> HttpResponse:
    """Call the service `change(action=…, by=the operator, **extra)` and go back to the task."""
    action = get_object_or_404(Action, pk=action_id)
    button_call(
        request,
        lambda: change(action=action, by=request.user, **extra),
        done=f"{done}: {action.summary or action.kind}.",
    )
    return _back_to(action.task_id)


action_approve_view, action_reject_view = decision_views(
    _action_button, approve=services.action_approve, reject=services.action_reject, staff_only=staff_only
)


@require_POST
@staff_only
def action_revert(request: HttpRequest, action_id: int) -> HttpResponse:
    """Revert a committed record change: a new `record.revert` task, recorded like any other work."""
    action = get_object_or_404(Action, pk=action_id)
    try:
        reversal = approvals.action_revert_request(action=action, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _back_to(action.task_id)
    messages.success(request, "The reversal is queued as its own task.")
    return redirect(reverse("ledger:task", args=[reversal.pk]))
