"""The approval queue and the autonomy suggestions: rows the conductor writes; the operator acts on them with
admin actions calling one `ledger.approvals` service per selected row."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from core.admin.base import apply_to_each
from ledger import approvals
from ledger.admin.base import ReadOnlyAdmin, RejectForm, json_block, task_link
from ledger.models import ApprovalRequest, AutonomySuggestion


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
            task_link(approval.task_id),
        )

    @admin.display(description="Policies that asked")
    def policies_json(self, approval: ApprovalRequest) -> str:
        return json_block(approval.policies)

    @admin.display(description="Edits")
    def edit_diff_json(self, approval: ApprovalRequest) -> str:
        return json_block(approval.edit_diff)

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
