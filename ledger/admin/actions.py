"""Actions and the approval queue: approved or rejected with admin actions calling one service per selected
row; the outbox emails actions sent and the autonomy suggestions (accepted or dismissed) beside them."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from ledger import approvals, preview, services
from ledger.admin.base import ReadOnlyAdmin, json_field, operate_action, reject_action, task_link, text_block
from ledger.models import Action, ApprovalRequest, AutonomySuggestion, OutboxEmail


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
    actions = ("approve", "reject")

    payload_json = json_field("payload", description="Payload")

    result_json = json_field("result", description="Result")

    @admin.display(description="Outbox email")
    def outbox_link(self, action: Action) -> str:
        email = OutboxEmail.objects.filter(action=action).first()
        if email is None:
            return "—"
        url = reverse("admin:ledger_outboxemail_change", args=[email.pk])
        return format_html('<a href="{}">{}</a> ({})', url, email.message_id, email.get_status_display())

    approve = operate_action(
        lambda request, action: str(
            services.action_approve(action=action, by=request.user).summary or action
        ),
        description="Approve",
        done="Approved",
    )
    reject = reject_action(
        lambda request, action, reason: str(
            services.action_reject(action=action, by=request.user, reason=reason).summary or action
        ),
        description="Reject…",
        title="Reject actions",
        explanation="A rejected action is never carried out. "
        "Its task goes on once nothing else waits for you.",
        item=lambda action: f"{action.summary or action.kind} — {action.get_status_display()}",
        noun="action",
    )


@admin.register(OutboxEmail)
class OutboxEmailAdmin(ReadOnlyAdmin):
    list_display = (
        "subject",
        "recipients",
        "status",
        "attempts",
        "uncertain_resends",
        "next_attempt_at",
        "message_id",
        "created_at",
        "sent_at",
    )
    list_filter = ("status",)
    search_fields = ("subject", "message_id", "to")
    date_hierarchy = "created_at"
    fields = (
        "action_link",
        "message_id",
        "status",
        "attempts",
        "uncertain_resends",
        "data_sent_at",
        "last_error",
        "first_failed_at",
        "next_attempt_at",
        "from_email",
        "to",
        "cc",
        "subject",
        "in_reply_to",
        "references",
        "body_text",
        "attached_files",
        "created_at",
        "sent_at",
    )

    @admin.display(description="To")
    def recipients(self, email: OutboxEmail) -> str:
        return ", ".join(email.to)

    @admin.display(description="Attachments")
    def attached_files(self, email: OutboxEmail) -> str:
        return (
            format_html_join(
                ", ",
                '<a href="{}">{}</a>',
                (
                    (reverse("admin:core_artifact_change", args=[artifact.pk]), artifact.filename)
                    for artifact in email.attachments.order_by("pk")
                ),
            )
            or "—"
        )

    @admin.display(description="Action")
    def action_link(self, email: OutboxEmail) -> str:
        url = reverse("admin:ledger_action_change", args=[email.action_id])
        return format_html('<a href="{}">action {}</a>', url, email.action_id)


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

    policies_json = json_field("policies", description="Policies that asked")

    edit_diff_json = json_field("edit_diff", description="Edits")

    approve = operate_action(
        lambda request, approval: _label(approvals.approval_approve(approval=approval, by=request.user)),
        description="Approve selected",
        done="Approved",
    )
    reject = reject_action(
        lambda request, approval, reason: _label(
            approvals.approval_reject(approval=approval, by=request.user, reason=reason)
        ),
        description="Reject selected (with reason)…",
        title="Reject approval requests",
        explanation="A rejected action is never carried out; the reason is kept with it and in its task's "
        "timeline. The task goes on once nothing else waits for you.",
        item=lambda approval: f"{_label(approval)} — {approval.reason}",
        noun="request",
    )


@admin.register(AutonomySuggestion)
class AutonomySuggestionAdmin(ReadOnlyAdmin):
    """A suggestion's page says exactly what accepting it changes (a diff of conditions and effect) and shows
    the policy editor's preview of that policy: the past actions it would have let through and the ones it
    would still hold, with reasons (ADR 0015)."""

    change_form_template = "admin/ledger/autonomysuggestion/change_form.html"
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
        "what_would_change",
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
    actions = ("accept", "dismiss", "revoke")

    @admin.display(description="What accepting changes")
    def what_would_change(self, suggestion: AutonomySuggestion) -> str:
        return text_block("\n".join(preview.autonomy_suggestion_diff(suggestion=suggestion)["lines"]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        suggestion = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if suggestion is not None and suggestion.status == AutonomySuggestion.Status.OPEN:
            extra["preview"] = preview.autonomy_suggestion_preview(suggestion=suggestion)
        return super().change_view(request, object_id, form_url, extra)

    accept = operate_action(
        lambda request, suggestion: str(approvals.autonomy_accept(suggestion=suggestion, by=request.user)),
        description="Accept: create the policy it describes (hard floors hold)",
        done="New approval policies",
    )
    dismiss = operate_action(
        lambda request, suggestion: str(approvals.autonomy_dismiss(suggestion=suggestion, by=request.user)),
        description="Dismiss",
        done="Dismissed",
    )
    revoke = operate_action(
        lambda request, suggestion: str(approvals.autonomy_revoke(suggestion=suggestion, by=request.user)),
        description="Revoke: disable the policy it created (asks you again)",
        done="Disabled policies",
    )
