"""Tasks, their timelines and their LLM calls (read-only; retrying a dead letter and cancelling are admin
actions), and the price table per model, the one thing edited here, with its history."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.validators import MinValueValidator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from core import currencies
from ledger import services
from ledger.admin.base import ReadOnlyAdmin, ReadOnlyInline, json_field, operate_action, task_link
from ledger.models import Action, LLMCall, ModelPrice, Task, TaskEvent
from ledger.selectors import requester_label
from ledger.views import cost_label

# What one LLM call used, in the task's inline and the calls' own list alike.
LLM_USAGE = ("tokens_in", "tokens_out", "cost", "latency_ms", "cache_hit")


class TaskEventInline(ReadOnlyInline):
    model = TaskEvent
    fields = ("at", "kind", "attempt", "step", "message", "data")
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
        *LLM_USAGE,
    )
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

    input_json = json_field("input", description="Input")

    output_json = json_field("output", description="Output")

    retry_dead_letters = operate_action(
        lambda request, task: str(services.task_retry(task=task, by=request.user)),
        description="Retry dead letters",
        done="Back in the queue",
    )
    discard_or_cancel = operate_action(
        lambda request, task: str(services.task_cancel(task=task, by=request.user, reason="From the admin")),
        description="Discard / cancel",
        done="Stopped",
    )


@admin.register(TaskEvent)
class TaskEventAdmin(ReadOnlyAdmin):
    """The append-only timeline across tasks (the database refuses updates and deletes)."""

    list_display = ("at", "task_link", "kind", "attempt", "step", "message")
    list_filter = ("kind",)
    search_fields = ("message", "step")
    date_hierarchy = "at"
    fields = ("task_link", "kind", "attempt", "step", "at", "message", "data_json")

    data_json = json_field("data", description="Data")


@admin.register(LLMCall)
class LLMCallAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "model",
        "tier",
        "agent",
        "outcome",
        *LLM_USAGE,
        "task_link",
    )
    list_filter = ("outcome", "tier", "cache_hit", "model")
    search_fields = ("model", "agent", "step", "prompt_hash")
    date_hierarchy = "created_at"
    fields = (
        "task_link",
        "step",
        "agent",
        "model",
        "tier",
        "outcome",
        "attempts",
        *LLM_USAGE,
        "prompt_hash",
        "error",
        "request_json",
        "response_text",
        "created_at",
    )

    request_json = json_field("request", description="Request")


class ModelPriceForm(forms.ModelForm):
    class Meta:
        model = ModelPrice
        fields = ("model", "input_per_million", "output_per_million", "currency", "notes")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Said per field, before the database's constraint would name itself instead.
        for name in ("input_per_million", "output_per_million"):
            self.fields[name].validators.append(MinValueValidator(0, "A price cannot be negative."))

    def clean_model(self) -> str:
        return self.cleaned_data["model"].strip()

    def clean_currency(self) -> str:
        code = self.cleaned_data["currency"].strip().upper()
        if not currencies.currency_is_valid(code):
            raise forms.ValidationError(f"{code!r} is not an ISO 4217 currency code.")
        return code


@admin.register(ModelPrice)
class ModelPriceAdmin(SimpleHistoryAdmin):
    """What one million tokens cost per model; the gateway prices every call from here."""

    form = ModelPriceForm
    list_display = ("model", "input_per_million", "output_per_million", "currency", "notes")
    search_fields = ("model", "notes")
