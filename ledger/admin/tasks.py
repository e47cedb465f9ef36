"""Tasks and their timelines (read-only); retrying a dead letter and cancelling are admin actions."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from core.admin.base import apply_to_each
from ledger import services
from ledger.admin.base import ReadOnlyAdmin, ReadOnlyInline, json_block, task_link
from ledger.models import Action, LLMCall, Task, TaskEvent
from ledger.selectors import requester_label
from ledger.views import cost_label


class TaskEventInline(ReadOnlyInline):
    model = TaskEvent
    fields = ("at", "kind", "attempt", "step", "message", "data")
    readonly_fields = fields
    ordering = ("id",)
    verbose_name_plural = "timeline"


class ActionInline(ReadOnlyInline):
    model = Action
    fields = (
        "summary",
        "kind",
        "step",
        "status",
        "decision",
        "decision_reason",
        "decided_by",
        "committed_at",
    )
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Action]:
        return super().get_queryset(request).select_related("decided_by")


class LLMCallInline(ReadOnlyInline):
    model = LLMCall
    fields = (
        "created_at",
        "step",
        "agent",
        "model",
        "tier",
        "outcome",
        "tokens_in",
        "tokens_out",
        "cost",
        "latency_ms",
        "cache_hit",
    )
    readonly_fields = fields
    show_change_link = True


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = (
        "short_id",
        "workflow",
        "status",
        "mode",
        "attempts_of_max",
        "cost_display",
        "requester",
        "created_at",
        "updated_at",
    )
    list_select_related = ("requested_by_user",)
    list_filter = ("status", "workflow", "mode")
    # `id` is matched as text, so the first characters of a task id find it.
    search_fields = ("id", "idempotency_key", "workflow")
    date_hierarchy = "created_at"
    fields = (
        "task_page",
        "workflow",
        "status",
        "mode",
        "idempotency_key",
        "requester",
        "parent_link",
        "attempts_of_max",
        "next_attempt_at",
        "cost_display",
        "claimed_by",
        "lease_expires_at",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
        "last_error",
        "last_traceback",
        "input_json",
        "output_json",
    )
    readonly_fields = fields
    inlines = (ActionInline, LLMCallInline, TaskEventInline)
    actions = ("retry_dead_letters", "discard_or_cancel")

    @admin.display(description="Task", ordering="id")
    def short_id(self, task: Task) -> str:
        return str(task.pk)[:8]

    @admin.display(description="Attempts")
    def attempts_of_max(self, task: Task) -> str:
        return f"{task.attempts}/{task.max_attempts}"

    @admin.display(description="Cost", ordering="cost")
    def cost_display(self, task: Task) -> str:
        return cost_label(task.cost)

    @admin.display(description="Requested by")
    def requester(self, task: Task) -> str:
        return requester_label(task)

    @admin.display(description="Parent task")
    def parent_link(self, task: Task) -> str:
        return task_link(task.parent_id)

    @admin.display(description="Task page")
    def task_page(self, task: Task) -> str:
        url = reverse("ledger:task", args=[task.pk])
        return format_html('<a href="{}">{}</a> (timeline, actions, LLM calls and buttons)', url, task.pk)

    @admin.display(description="Input")
    def input_json(self, task: Task) -> str:
        return json_block(task.input)

    @admin.display(description="Output")
    def output_json(self, task: Task) -> str:
        return json_block(task.output)

    @admin.action(description="Retry dead letters", permissions=["operate"])
    def retry_dead_letters(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        apply_to_each(
            self,
            request,
            queryset,
            lambda task: str(services.task_retry(task=task, by=request.user)),
            "Back in the queue",
        )

    @admin.action(description="Discard / cancel", permissions=["operate"])
    def discard_or_cancel(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        apply_to_each(
            self,
            request,
            queryset,
            lambda task: str(services.task_cancel(task=task, by=request.user, reason="From the admin")),
            "Stopped",
        )


@admin.register(TaskEvent)
class TaskEventAdmin(ReadOnlyAdmin):
    """The append-only timeline across tasks (the database refuses updates and deletes)."""

    list_display = ("at", "task_link", "kind", "attempt", "step", "message")
    list_filter = ("kind",)
    search_fields = ("message", "step")
    date_hierarchy = "at"
    fields = ("task_link", "kind", "attempt", "step", "at", "message", "data_json")
    readonly_fields = fields

    @admin.display(description="Data")
    def data_json(self, event: TaskEvent) -> str:
        return json_block(event.data)
