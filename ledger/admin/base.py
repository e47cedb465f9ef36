"""What every ledger admin shares: read-only rows, links to tasks, JSON shown as text, and the admin actions
that ask a service to act on each selected row (rejecting asks for a reason first)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from core.admin.actions import reason_action, service_action
from core.admin.base import ReadOnlyPermissions
from core.display import json_pretty

RowAction = Callable[[admin.ModelAdmin, HttpRequest, QuerySet], HttpResponse | None]


def text_block(text: str) -> str:
    """Text shown as written (line breaks kept, wrapped to the page), escaped."""
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', text)


def json_block(data: Any) -> str:
    return text_block(json_pretty(data))


def json_field(attribute: str, *, description: str) -> Callable[[Any, Any], str]:
    """A read-only admin field showing a JSON column pretty-printed:
    `payload_json = json_field("payload", description="Payload")`, then name it in `fields`."""

    @admin.display(description=description)
    def show(model_admin: Any, obj: Any) -> str:
        return json_block(getattr(obj, attribute))

    return show


def task_link(task_id: Any) -> str:
    """A link to a task's admin page from its id alone, so list pages need no join for it."""
    if task_id is None:
        return "—"
    url = reverse("admin:ledger_task_change", args=[task_id])
    return format_html('<a href="{}"><code>{}</code></a>', url, str(task_id)[:8])


class ReadOnlyAdmin(ReadOnlyPermissions, admin.ModelAdmin):
    """Rows only a service writes: viewed here, never added, changed or deleted.

    Admin actions declare the "operate" permission: whoever may change the model in Django's terms may
    ask the service to act on it, although the rows themselves stay read-only.
    """

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.display(description="Task")
    def task_link(self, row: Any) -> str:
        """For rows that belong to a task (events, actions, LLM calls)."""
        return task_link(row.task_id)


class ReadOnlyInline(ReadOnlyPermissions, admin.TabularInline):
    extra = 0
    can_delete = False


class RejectForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept on each action and in its task's timeline.",
    )


def operate_action(change: Callable[[HttpRequest, Any], str], *, description: str, done: str) -> RowAction:
    """An admin action that runs one service per selected row (`change` returns the row's label) and reports
    each refusal as a message; the operator's `operate` permission, not `change`, allows it.

    The rows come as the list shows them, joined to its `list_select_related`."""
    return service_action(change, description=description, done=done, permissions=("operate",))


# An admin action that first asks for a reason (the selected rows listed with `item`), then runs
# `reject(request, row, reason)` on each: reason_action with the ledger's rejecting fixed; the caller gives
# its wording (description, title, explanation, item, noun).
reject_action = partial(
    reason_action,
    name="reject",
    permissions=("operate",),
    form=RejectForm,
    verb="Reject",
    done="Rejected",
)
