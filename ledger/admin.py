"""The back office of the task ledger.

Tasks, their timelines, actions, outbox emails and LLM calls are written only by the conductor
(`ledger.services`), so they are shown read-only here. What the operator may do to them — retry or discard
a dead letter, cancel a task, approve or reject a proposed action — are admin actions that call one
service per selected row and report each refusal as a message. The price table per model is the one
thing edited here, with its history. "Agents and workflows" lists the registry declared in code.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.validators import MinValueValidator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from pydantic import BaseModel
from pydantic.errors import PydanticUserError
from simple_history.admin import SimpleHistoryAdmin

from agents import kernel
from core import currencies
from core.admin import apply_to_each
from ledger import services
from ledger.models import Action, LLMCall, ModelPrice, OutboxEmail, Task, TaskEvent
from ledger.selectors import requester_label
from ledger.views import cost_label


def _pretty_json(data: Any) -> str:
    return format_html(
        '<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
        json.dumps(data, indent=2, default=str, ensure_ascii=False, sort_keys=True),
    )


def _task_link(task_id: Any) -> str:
    """A link to a task's admin page from its id alone, so list pages need no join for it."""
    if task_id is None:
        return "—"
    url = reverse("admin:ledger_task_change", args=[task_id])
    return format_html('<a href="{}"><code>{}</code></a>', url, str(task_id)[:8])


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only the conductor writes: viewed here, never added, changed or deleted.

    Admin actions declare the "operate" permission: whoever may change the model in Django's terms may
    ask the conductor to act on it, although the rows themselves stay read-only.
    """

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.display(description="Task")
    def task_link(self, row: Any) -> str:
        """For rows that belong to a task (events, actions, LLM calls)."""
        return _task_link(row.task_id)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Tasks -----------------------------------------------------------------------------------


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
        return _task_link(task.parent_id)

    @admin.display(description="Task page")
    def task_page(self, task: Task) -> str:
        url = reverse("ledger:task", args=[task.pk])
        return format_html('<a href="{}">{}</a> (timeline, actions, LLM calls and buttons)', url, task.pk)

    @admin.display(description="Input")
    def input_json(self, task: Task) -> str:
        return _pretty_json(task.input)

    @admin.display(description="Output")
    def output_json(self, task: Task) -> str:
        return _pretty_json(task.output)

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
        return _pretty_json(event.data)


# --- Actions and the outbox ------------------------------------------------------------------


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept on each action and in its task's timeline.",
    )


@admin.register(Action)
class ActionAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "summary",
        "task_link",
        "step",
        "status",
        "decision",
        "decided_by",
        "created_at",
    )
    list_select_related = ("decided_by",)
    list_filter = ("status", "kind", "decision")
    search_fields = ("summary", "kind", "idempotency_key")
    date_hierarchy = "created_at"
    fields = (
        "task_link",
        "step",
        "kind",
        "summary",
        "status",
        "decision",
        "decision_reason",
        "decided_by",
        "decided_at",
        "committed_at",
        "idempotency_key",
        "payload_json",
        "result_json",
        "error",
        "outbox_link",
        "created_at",
    )
    readonly_fields = fields
    actions = ("approve", "reject")

    @admin.display(description="Payload")
    def payload_json(self, action: Action) -> str:
        return _pretty_json(action.payload)

    @admin.display(description="Result")
    def result_json(self, action: Action) -> str:
        return _pretty_json(action.result)

    @admin.display(description="Outbox email")
    def outbox_link(self, action: Action) -> str:
        email = OutboxEmail.objects.filter(action=action).first()
        if email is None:
            return "—"
        url = reverse("admin:ledger_outboxemail_change", args=[email.pk])
        return format_html('<a href="{}">{}</a> ({})', url, email.message_id, email.get_status_display())

    @admin.action(description="Approve", permissions=["operate"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Action]) -> None:
        apply_to_each(
            self,
            request,
            queryset,
            lambda action: str(services.action_approve(action=action, by=request.user).summary or action),
            "Approved",
        )

    @admin.action(description="Reject…", permissions=["operate"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Action]) -> HttpResponse | None:
        form = RejectForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            apply_to_each(
                self,
                request,
                queryset,
                lambda action: str(
                    services.action_reject(action=action, by=request.user, reason=reason).summary or action
                ),
                "Rejected",
            )
            return None
        return TemplateResponse(
            request,
            "admin/reason_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reject actions",
                "explanation": "A rejected action is never carried out. Its task goes on once nothing else "
                "waits for you.",
                "items": [
                    (action.pk, f"{action.summary or action.kind} — {action.get_status_display()}")
                    for action in queryset
                ],
                "action_name": "reject",
                "submit_label": f"Reject {len(queryset)} action{pluralize(len(queryset))}",
                "opts": self.opts,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ReadOnlyAdmin):
    list_display = ("subject", "recipients", "status", "attempts", "message_id", "created_at", "sent_at")
    list_filter = ("status",)
    search_fields = ("subject", "message_id", "to")
    date_hierarchy = "created_at"
    fields = (
        "action_link",
        "message_id",
        "status",
        "attempts",
        "last_error",
        "from_email",
        "to",
        "cc",
        "subject",
        "in_reply_to",
        "references",
        "body_text",
        "created_at",
        "sent_at",
    )
    readonly_fields = fields

    @admin.display(description="To")
    def recipients(self, email: OutboxEmail) -> str:
        return ", ".join(email.to)

    @admin.display(description="Action")
    def action_link(self, email: OutboxEmail) -> str:
        url = reverse("admin:ledger_action_change", args=[email.action_id])
        return format_html('<a href="{}">action {}</a>', url, email.action_id)


# --- LLM calls and prices --------------------------------------------------------------------


@admin.register(LLMCall)
class LLMCallAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "model",
        "tier",
        "agent",
        "outcome",
        "tokens_in",
        "tokens_out",
        "cost",
        "latency_ms",
        "cache_hit",
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
        "tokens_in",
        "tokens_out",
        "cost",
        "latency_ms",
        "cache_hit",
        "prompt_hash",
        "error",
        "request_json",
        "response_text",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="Request")
    def request_json(self, call: LLMCall) -> str:
        return _pretty_json(call.request)


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


# --- The registry of agents and workflows ----------------------------------------------------


def _json_type(schema: dict[str, Any]) -> str:
    """A short type name from a JSON schema: "list[string (email)]", "string | null", "CostLine"."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_json_type(option) for option in schema["anyOf"])
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list[{_json_type(schema.get('items', {}))}]"
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def schema_fields(schema: type[BaseModel] | None) -> list[dict[str, Any]]:
    """The fields of a pydantic schema as the operator reads them: name, type, required, default."""
    if schema is None:
        return []
    try:
        json_schema = schema.model_json_schema()
    except PydanticUserError:
        return [{"name": schema.__name__, "type": "(not expressible as JSON schema)", "required": False}]
    required = set(json_schema.get("required", ()))
    return [
        {
            "name": name,
            "type": _json_type(field),
            "required": name in required,
            "default": json.dumps(field["default"]) if "default" in field else "",
            "description": field.get("description", ""),
        }
        for name, field in json_schema.get("properties", {}).items()
    ]


def registry_view(request: HttpRequest) -> TemplateResponse:
    agents = kernel.agents_all()
    versions = {agent.name: agent.version for agent in agents}
    return TemplateResponse(
        request,
        "admin/ledger/registry.html",
        {
            **admin.site.each_context(request),
            "title": "Agents and workflows",
            "workflows": [
                {
                    "name": workflow.name,
                    "description": workflow.description,
                    "max_attempts": workflow.max_attempts,
                    "input_fields": schema_fields(workflow.input_schema),
                    "steps": [
                        {"name": step.name, "agent": step.agent, "version": versions.get(step.agent, "?")}
                        for step in workflow.steps
                    ],
                }
                for workflow in kernel.workflows_all()
            ],
            "agents": [
                {
                    "name": agent.name,
                    "version": agent.version,
                    "description": agent.description,
                    "input_fields": schema_fields(agent.Input),
                    "output_fields": schema_fields(agent.Output),
                }
                for agent in agents
            ],
        },
    )


def _install_registry_page(site: admin.AdminSite) -> None:
    """Add the read-only registry page to the admin, and list it with the ledger's models.

    The registry lives in code, not in a table, so there is no model admin to carry it: the page is a
    plain admin view (staff only, via `admin_view`), and the app list gains an entry pointing at it.
    """
    site_urls, site_app_list = site.get_urls, site.get_app_list

    def get_urls() -> list:
        # Before the admin's catch-all pattern, which would otherwise answer 404.
        registry = path("ledger/registry/", site.admin_view(registry_view), name="ledger_registry")
        return [registry, *site_urls()]

    def get_app_list(request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        app_list = site_app_list(request, app_label)
        for app in app_list:
            if app["app_label"] == "ledger":
                app["models"].append(
                    {
                        "model": None,
                        "name": "Agents and workflows",
                        "object_name": "Registry",
                        "perms": {"add": False, "change": False, "delete": False, "view": True},
                        "admin_url": reverse("admin:ledger_registry", current_app=site.name),
                        "add_url": None,
                        "view_only": True,
                    }
                )
                app["models"].sort(key=lambda model: model["name"])
        return app_list

    site.get_urls = get_urls
    site.get_app_list = get_app_list


_install_registry_page(admin.site)

# Last: it builds on the admins above (ReadOnlyAdmin, RejectForm).
from ledger import admin_policies  # noqa: E402, F401 - the policy editor and the approval queue
