"""Actions (approved or rejected with admin actions) and the outbox emails they sent (read-only)."""

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
from ledger import services
from ledger.admin.base import ReadOnlyAdmin, RejectForm, json_block
from ledger.models import Action, OutboxEmail


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
        return json_block(action.payload)

    @admin.display(description="Result")
    def result_json(self, action: Action) -> str:
        return json_block(action.result)

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
