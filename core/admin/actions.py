"""Admin actions that run one service per selected row, oldest first, and report what succeeded and why
the rest did not; `reason_action` asks for a reason first (voiding invoices, rejecting actions).

Imports no other admin module, so every one of them can import this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse


def apply_to_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    change: Callable[[Any], str],
    done: str,
) -> None:
    """Run one service per selected record, oldest first; report what succeeded and why the rest did not."""
    succeeded = []
    for record in queryset.order_by("created_at", "pk"):
        try:
            succeeded.append(change(record))
        except ValidationError as exc:
            model_admin.message_user(request, f"{record}: {' '.join(exc.messages)}", messages.ERROR)
    if succeeded:
        model_admin.message_user(request, f"{done}: {', '.join(succeeded)}.", messages.SUCCESS)


def service_action(
    change: Callable[[HttpRequest, Any], str],
    *,
    description: str,
    done: str,
    name: str | None = None,
    permissions: tuple[str, ...] = ("change",),
) -> Callable[..., None]:
    """An admin action that runs `change(request, row)` (one service call) on each selected row, as
    `apply_to_each` does. `name` is needed only where the action is listed by function, not by attribute:
    the admin tells such actions apart by their function's name."""

    @admin.action(description=description, permissions=list(permissions))
    def act(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        apply_to_each(model_admin, request, queryset, lambda row: change(request, row), done)

    if name is not None:
        act.__name__ = name
    return act


def reason_action(
    change: Callable[[HttpRequest, Any, str], str],
    *,
    name: str,
    description: str,
    permissions: tuple[str, ...],
    form: type[forms.Form],
    title: str,
    explanation: str,
    item: Callable[[Any], str],
    noun: str,
    verb: str,
    done: str,
) -> Callable[..., HttpResponse | None]:
    """An admin action that first asks for a reason (the selected rows listed with `item`), then runs
    `change(request, row, reason)` on each, reporting each refusal (voiding invoices, rejecting actions).

    `name` is the attribute the action is assigned to on the admin: the confirmation page posts it back."""

    @admin.action(description=description, permissions=list(permissions))
    def act(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        bound = form(request.POST if "confirm" in request.POST else None)
        if bound.is_valid():
            reason = bound.cleaned_data["reason"]
            apply_to_each(model_admin, request, queryset, lambda row: change(request, row, reason), done)
            return None
        selected = list(queryset)
        return TemplateResponse(
            request,
            "admin/reason_confirmation.html",
            {
                **model_admin.admin_site.each_context(request),
                "title": title,
                "explanation": explanation,
                "items": [(row.pk, item(row)) for row in selected],
                "action_name": name,
                "submit_label": f"{verb} {len(selected)} {noun}{pluralize(len(selected))}",
                "opts": model_admin.opts,
                "form": bound,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    return act
