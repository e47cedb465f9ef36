"""The policy editor, the approval queue and the autonomy suggestions in the back office (DESIGN §7).

Policies are written only by `ledger.policy.policy_save`: the editor builds one form per kind from that
kind's pydantic parameters (help text from their descriptions), validates with `policy_params_validate`
and shows each refusal next to the field it names; hard floors and other whole-policy refusals are shown
above the form. "Preview" decides recent and pending actions again with the draft (`ledger.preview`) and
saves nothing. Policies are disabled, never deleted: decisions and approval requests name the policy
versions that made them, and those must keep resolving to a policy and its history.
"""

from __future__ import annotations

import types
import typing
from decimal import Decimal
from typing import Any, Literal

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.template.response import TemplateResponse
from pydantic.fields import FieldInfo

from agents import kernel
from core.admin.base import ServiceAdmin, ServiceForm, adopt, refusal_on_validation_error
from core.models import MemoryItem
from ledger import commit, policy, preview
from ledger.models import Policy

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
    "workspace suggests letting it commit alone; you accept or dismiss the suggestion. For work started by "
    "mail the suggestion is narrow (that kind and agent, known recipients, amounts capped) and takes "
    "precedence over the untrusted-input policy for those actions only.",
    Policy.Kind.REMINDER: "The payment reminders of overdue invoices: each level once, so many days past "
    "due, from its text template; drafted for your approval on working days in working hours only.",
    Policy.Kind.DELIVERY: "How long an email the mail server did not take is tried again, and how the waits "
    "between tries grow. While it waits a notice says so; once the time is up the workspace gives up on it "
    "and the notice stays until you retry or discard the task.",
}

# Labels where the parameter's name alone would be unclear next to the policy's own fields.
PARAM_LABELS = {
    "kind": "Memory kind",
    "effect": "Then",
    "after": "Approvals in a row",
    "prevails_over": "Takes precedence over",
}
BOOL_EITHER = [("", "Either"), ("True", "Yes"), ("False", "No")]


# --- One form per kind, built from its pydantic parameters ----------------------------------------


def _kind_choices() -> list[tuple[str, str]]:
    return [(kind, f"{kind} ({commit.committer_effect(kind)})") for kind in commit.committer_kinds()]


def _agent_choices() -> list[tuple[str, str]]:
    return [(agent.name, agent.name) for agent in kernel.agents_all()]


def _caution_choices() -> list[tuple[str, str]]:
    # Only an untrusted-input ask policy can be outranked, and only by a narrow commit policy (ADR 0015).
    return [(str(caution.pk), caution.name) for caution in policy.untrusted_cautions()]


def _memory_kind_choices() -> list[tuple[str, str]]:
    return [("", "Every kind of the tier without its own rule"), *MemoryItem.Kind.choices]


def _literal_choices(annotation: Any) -> list[tuple[str, str]] | None:
    if typing.get_origin(annotation) is Literal:
        return [(str(value), str(value)) for value in typing.get_args(annotation)]
    return None


WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class ReminderLevelsField(forms.CharField):
    """The reminder levels as lines the operator can read and edit: `name, days past due, template`."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 60})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(
                f"{level['name']}, {level['after_days']}, {level.get('template', '')}".rstrip(", ")
                for level in value
            )
        return value

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        levels = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split(",")]
            if len(parts) not in (2, 3) or not parts[1].isdigit():
                raise forms.ValidationError(
                    f"Line {number}: write “name, days past due, template” "
                    "(e.g. “friendly, 3, payment_reminder”)."
                )
            level = {"name": parts[0], "after_days": int(parts[1])}
            if len(parts) == 3 and parts[2]:
                level["template"] = parts[2]
            levels.append(level)
        return levels


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
    if name == "levels":
        return ReminderLevelsField(**common)
    if name == "working_days":
        return forms.TypedMultipleChoiceField(
            choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple, **common
        )
    if typing.get_origin(inner) is list:
        (item,) = typing.get_args(inner)
        choices = {
            "action_kinds": _kind_choices,
            "agents": _agent_choices,
            "prevails_over": _caution_choices,
        }.get(name)
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
