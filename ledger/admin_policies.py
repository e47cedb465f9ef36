"""The policy editor, the approval queue and the autonomy suggestions in the back office (DESIGN §7).

Policies are written only by `ledger.policy.policy_save`: the editor builds one form per kind from that
kind's pydantic parameters (help text from their descriptions), validates with `policy_params_validate`
and shows each refusal next to the field it names; hard floors and other whole-policy refusals are shown
above the form. "Preview" decides recent and pending actions again with the draft (`ledger.preview`) and
saves nothing. Policies are disabled, never deleted: decisions and approval requests name the policy
versions that made them, and those must keep resolving to a policy and its history.

Approval requests and autonomy suggestions are rows the conductor writes; the operator acts on them with
admin actions calling one `ledger.approvals` service per selected row.
"""

from __future__ import annotations

import types
import typing
from decimal import Decimal
from typing import Any, Literal

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from pydantic.fields import FieldInfo

from agents import kernel
from core.admin import ServiceAdmin, ServiceForm, adopt, apply_to_each, refusal_on_validation_error
from ledger import approvals, commit, policy, preview
from ledger.admin import ReadOnlyAdmin, RejectForm, _pretty_json, _task_link
from ledger.models import ApprovalRequest, AutonomySuggestion, Policy

PARAM_PREFIX = "param_"

KIND_HELP = {
    Policy.Kind.APPROVAL: "Which actions commit alone, which ask you and which are denied: conditions on "
    "the action kind, effect, agent, amount, recipients, confidence, client and source. Of the policies "
    "that match an action the strictest wins; what none matches asks you.",
    Policy.Kind.BUDGET: "A monthly cap on LLM spend, for the workspace or one agent. Once reached, "
    "non-critical work waits and critical work uses a cheaper tier or the offline rules.",
    Policy.Kind.RETENTION: "How long session and working memory of a kind is kept. Canonical memory is "
    "never deleted.",
    Policy.Kind.AUTONOMY: "After N approvals in a row without edits of one agent's action kind, the "
    "workspace suggests letting it commit alone; you accept or dismiss the suggestion.",
}

# Labels where the parameter's name alone would be unclear next to the policy's own fields.
PARAM_LABELS = {"kind": "Memory kind", "effect": "Then", "after": "Approvals in a row"}
BOOL_EITHER = [("", "Either"), ("True", "Yes"), ("False", "No")]


# --- One form per kind, built from its pydantic parameters ----------------------------------------


def _kind_choices() -> list[tuple[str, str]]:
    return [(kind, f"{kind} ({commit.committer_effect(kind)})") for kind in commit.committer_kinds()]


def _agent_choices() -> list[tuple[str, str]]:
    return [(agent.name, agent.name) for agent in kernel.agents_all()]


def _memory_kind_choices() -> list[tuple[str, str]]:
    from core.models import MemoryItem

    return [("", "Every kind of the tier without its own rule"), *MemoryItem.Kind.choices]


def _literal_choices(annotation: Any) -> list[tuple[str, str]] | None:
    if typing.get_origin(annotation) is Literal:
        return [(str(value), str(value)) for value in typing.get_args(annotation)]
    return None


def _param_field(name: str, info: FieldInfo) -> forms.Field:
    """A form field for one parameter; an annotation it does not know is a programming error."""
    annotation = info.annotation
    options = typing.get_args(annotation)
    optional = typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in options
    inner = next(option for option in options if option is not type(None)) if optional else annotation
    common = {
        "label": PARAM_LABELS.get(name, name.replace("_", " ").capitalize()),
        "help_text": info.description or "",
        "required": info.is_required(),
    }
    if typing.get_origin(inner) is list:
        (item,) = typing.get_args(inner)
        choices = {"action_kinds": _kind_choices, "agents": _agent_choices}.get(name)
        choices = choices() if choices else _literal_choices(item)
        if choices is None:
            raise TypeError(f"no form field for parameter {name!r}: {annotation!r}")
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **{**common, "required": False}
        )
    choices = _literal_choices(inner)
    if choices is not None:
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if inner is bool:
        # Three states: the condition is not set, must hold, or must not hold.
        return forms.TypedChoiceField(
            choices=BOOL_EITHER, coerce=lambda value: value == "True", empty_value=None, **common
        )
    if inner is Decimal:
        return forms.DecimalField(**common)
    if inner is float:
        return forms.FloatField(widget=forms.NumberInput(attrs={"step": "0.01"}), **common)
    if inner is int:
        return forms.IntegerField(**common)
    if inner is str:
        if name == "agent":
            return forms.ChoiceField(choices=[("", "—"), *_agent_choices()], **common)
        if name == "kind":
            return forms.ChoiceField(choices=_memory_kind_choices(), **common)
        if name == "currency":
            return forms.CharField(max_length=3, widget=forms.TextInput(attrs={"size": 4}), **common)
        return forms.CharField(**common)
    raise TypeError(f"no form field for parameter {name!r}: {annotation!r}")


def param_fields(kind: str) -> dict[str, forms.Field]:
    return {
        PARAM_PREFIX + name: _param_field(name, info)
        for name, info in policy.PARAMS[kind].model_fields.items()
    }


def _readable(message: str) -> str:
    return message[:1].upper() + message[1:]


class PolicyForm(ServiceForm):
    """Name, state and description of a policy, plus the parameters of its kind (added per kind)."""

    policy_kind: str = ""
    preview_requested = False
    reason = forms.CharField(
        required=False,
        max_length=100,
        label="Reason for the change",
        help_text="Optional; kept in the policy's history.",
    )

    class Meta:
        model = Policy
        fields = ("name", "enabled", "description")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.instance.kind = self.policy_kind
        self.params: dict[str, Any] = {}
        stored = self.instance.params if self.instance.pk is not None else {}
        for name, info in policy.PARAMS[self.policy_kind].model_fields.items():
            field_name = PARAM_PREFIX + name
            if name in stored:
                self.initial.setdefault(field_name, stored[name])
            elif not info.is_required() and info.default not in (None, "", []):
                self.initial.setdefault(field_name, info.default)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        submitted = {
            field_name.removeprefix(PARAM_PREFIX): value
            for field_name, value in cleaned.items()
            if field_name.startswith(PARAM_PREFIX) and value not in (None, "", [])
        }
        try:
            self.params = policy.policy_params_validate(kind=self.policy_kind, params=submitted)
        except ValidationError as exc:
            for where, messages in exc.message_dict.items():
                field_name = PARAM_PREFIX + where.split(".")[0]
                if field_name in self.errors:
                    continue  # the field's own error (not a number, no such choice) says it already
                self.add_error(
                    field_name if field_name in self.fields else None, [_readable(m) for m in messages]
                )
        return cleaned

    def is_valid(self) -> bool:
        # "Preview" must not save: a valid previewed form reports itself invalid (with no errors), so the
        # admin shows it again instead of saving, and PolicyAdmin.render_change_form adds the preview.
        return super().is_valid() and not self.preview_requested

    def draft(self) -> Policy:
        """The policy as it would be saved, unsaved (the saved one's pk when this edits it)."""
        return Policy(
            pk=self.instance.pk,
            name=self.cleaned_data["name"],
            kind=self.policy_kind,
            enabled=self.cleaned_data["enabled"],
            description=self.cleaned_data["description"],
            params=self.params,
            version=(self.instance.version + 1) if self.instance.pk else 1,
        )


@admin.register(Policy)
class PolicyAdmin(ServiceAdmin):
    form = PolicyForm
    list_display = ("name", "kind", "enabled", "version", "updated_at", "updated_by")
    list_select_related = ("updated_by",)
    list_filter = ("kind", "enabled")
    search_fields = ("name", "description")
    history_list_display = ["version"]
    info_fields = ("version", "updated_by", "updated_at", "created_at")

    def _kind(self, request: HttpRequest, obj: Policy | None) -> str | None:
        if obj is not None:
            return obj.kind
        kind = request.GET.get("kind", "")
        return kind if kind in policy.PARAMS else None

    def get_fieldsets(self, request: HttpRequest, obj: Policy | None = None) -> list:
        kind = self._kind(request, obj)
        info = () if obj is None else (("Version", {"fields": self.info_fields}),)
        return [
            (None, {"fields": ("name", "kind", "enabled", "description")}),
            ("Parameters", {"fields": tuple(param_fields(kind)), "description": KIND_HELP[kind]}),
            *info,
            ("This change", {"fields": ("reason",)}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Policy | None = None) -> list[str]:
        # The kind is chosen before the form (its fields depend on it) and never changes afterwards.
        return ["kind"] if obj is None else ["kind", *self.info_fields]

    def get_form(self, request: HttpRequest, obj: Policy | None = None, change: bool = False, **kwargs: Any):
        kind = self._kind(request, obj)
        attrs = {
            **param_fields(kind),
            "policy_kind": kind,
            "preview_requested": request.method == "POST" and "_preview" in request.POST,
        }
        kind_form = type(f"{kind.capitalize()}PolicyForm", (PolicyForm,), attrs)
        return super().get_form(request, obj, change=change, form=kind_form, **kwargs)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None):
        if self._kind(request, None) is None:
            return TemplateResponse(
                request,
                "admin/ledger/policy/kind_chooser.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Add policy: choose its kind",
                    "opts": self.opts,
                    "kinds": [(kind, label, KIND_HELP[kind]) for kind, label in Policy.Kind.choices],
                },
            )
        return super().add_view(request, form_url, extra_context)

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, **kwargs: Any):
        form = context["adminform"].form
        if form.preview_requested and form.is_bound and not form.errors:
            context["preview"] = preview.policy_preview(draft=form.draft())
        return super().render_change_form(request, context, *args, **kwargs)

    def save_model(self, request: HttpRequest, obj: Policy, form: PolicyForm, change: bool) -> None:
        with refusal_on_validation_error():
            stored = policy.policy_save(
                policy=obj if change else None,
                by=request.user,
                name=form.cleaned_data["name"],
                kind=form.policy_kind,
                params=form.params,
                enabled=form.cleaned_data["enabled"],
                description=form.cleaned_data["description"],
                reason=form.cleaned_data["reason"],
            )
        adopt(obj, stored)

    def has_delete_permission(self, request: HttpRequest, obj: Policy | None = None) -> bool:
        return False


# --- The approval queue ---------------------------------------------------------------------------


def _label(approval: ApprovalRequest) -> str:
    return approval.action.summary or approval.action.kind


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(ReadOnlyAdmin):
    list_display = (
        "action_summary",
        "task_link",
        "status",
        "urgency",
        "reason",
        "created_at",
        "expires_at",
        "decided_by",
    )
    list_select_related = ("action", "decided_by")
    list_filter = ("status", "urgency")
    search_fields = ("reason", "action__summary", "action__kind")
    date_hierarchy = "created_at"
    fields = (
        "action_link",
        "task_page",
        "status",
        "urgency",
        "reason",
        "floors",
        "policies_json",
        "expires_at",
        "created_at",
        "decided_by",
        "decided_at",
        "edited",
        "edit_diff_json",
        "reject_reason",
    )
    readonly_fields = fields
    actions = ("approve", "reject")

    @admin.display(description="Action", ordering="action__kind")
    def action_summary(self, approval: ApprovalRequest) -> str:
        return _label(approval)

    @admin.display(description="Action")
    def action_link(self, approval: ApprovalRequest) -> str:
        url = reverse("admin:ledger_action_change", args=[approval.action_id])
        return format_html('<a href="{}">{}</a>', url, _label(approval))

    @admin.display(description="Task")
    def task_page(self, approval: ApprovalRequest) -> str:
        url = reverse("ledger:task", args=[approval.task_id])
        return format_html(
            '<a href="{}">{}</a> (timeline, sources, cost) · admin: {}',
            url,
            approval.task_id,
            _task_link(approval.task_id),
        )

    @admin.display(description="Policies that asked")
    def policies_json(self, approval: ApprovalRequest) -> str:
        return _pretty_json(approval.policies)

    @admin.display(description="Edits")
    def edit_diff_json(self, approval: ApprovalRequest) -> str:
        return _pretty_json(approval.edit_diff)

    @admin.action(description="Approve selected", permissions=["operate"])
    def approve(self, request: HttpRequest, queryset: QuerySet[ApprovalRequest]) -> None:
        apply_to_each(
            self,
            request,
            queryset.select_related("action"),
            lambda approval: _label(approvals.approval_approve(approval=approval, by=request.user)),
            "Approved",
        )

    @admin.action(description="Reject selected (with reason)…", permissions=["operate"])
    def reject(self, request: HttpRequest, queryset: QuerySet[ApprovalRequest]) -> HttpResponse | None:
        form = RejectForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            apply_to_each(
                self,
                request,
                queryset.select_related("action"),
                lambda approval: _label(
                    approvals.approval_reject(approval=approval, by=request.user, reason=reason)
                ),
                "Rejected",
            )
            return None
        selected = list(queryset.select_related("action"))
        return TemplateResponse(
            request,
            "admin/reason_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reject approval requests",
                "explanation": "A rejected action is never carried out; the reason is kept with it and in "
                "its task's timeline. The task goes on once nothing else waits for you.",
                "items": [(approval.pk, f"{_label(approval)} — {approval.reason}") for approval in selected],
                "action_name": "reject",
                "submit_label": f"Reject {len(selected)} request{pluralize(len(selected))}",
                "opts": self.opts,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(AutonomySuggestion)
class AutonomySuggestionAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "status",
        "agent",
        "action_kind",
        "streak",
        "autonomy_policy",
        "created_at",
        "decided_by",
        "created_policy",
    )
    list_select_related = ("autonomy_policy", "decided_by", "created_policy")
    list_filter = ("status", "agent", "action_kind")
    fields = (
        "agent",
        "action_kind",
        "streak",
        "autonomy_policy",
        "status",
        "created_at",
        "decided_by",
        "decided_at",
        "created_policy",
    )
    readonly_fields = fields
    actions = ("accept", "dismiss")

    @admin.action(description="Accept: let it commit alone (hard floors hold)", permissions=["operate"])
    def accept(self, request: HttpRequest, queryset: QuerySet[AutonomySuggestion]) -> None:
        apply_to_each(
            self,
            request,
            queryset,
            lambda suggestion: str(approvals.autonomy_accept(suggestion=suggestion, by=request.user)),
            "New approval policies",
        )

    @admin.action(description="Dismiss", permissions=["operate"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[AutonomySuggestion]) -> None:
        apply_to_each(
            self,
            request,
            queryset,
            lambda suggestion: str(approvals.autonomy_dismiss(suggestion=suggestion, by=request.user)),
            "Dismissed",
        )
