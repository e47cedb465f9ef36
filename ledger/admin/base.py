"""What every ledger admin shares: read-only rows, links to tasks, JSON shown as text, the reject form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from core.display import json_pretty


def json_block(data: Any) -> str:
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', json_pretty(data))


def task_link(task_id: Any) -> str:
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
        return task_link(row.task_id)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept on each action and in its task's timeline.",
    )
