"""Notices: what the operator must see (mail that waits or was given up on, dead letters, budgets). Raised
and resolved by the ledger's services; the operator reads them here and may dismiss one by hand."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from ledger.admin.base import ReadOnlyAdmin, operate_action
from ledger.models import Notice
from ledger.services import notice_dismiss


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [("yes", "Open"), ("no", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


def _dismiss(request: HttpRequest, notice: Notice) -> str:
    notice_dismiss(notice=notice, by=request.user)
    return notice.title


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ("title", "level", "open_since", "occurrences", "updated_at", "resolved_at", "where")
    list_filter = (OpenFilter, "level")
    search_fields = ("title", "body", "key")
    fields = (
        "title",
        "level",
        "body",
        "where",
        "task_link",
        "key",
        "raised_at",
        "updated_at",
        "occurrences",
        "resolved_at",
        "resolved_by",
        "resolution",
    )
    actions = [operate_action(_dismiss, description="Dismiss the selected notices", done="Dismissed")]

    @admin.display(description="Open since", ordering="raised_at")
    def open_since(self, notice: Notice):
        return notice.raised_at if notice.is_open else "—"

    @admin.display(description="Where to act")
    def where(self, notice: Notice) -> str:
        return format_html('<a href="{}">{}</a>', notice.link, notice.link) if notice.link else "—"
