"""Memory in the back office: notes (written through services), memory items (read and forgotten,
never edited: they are derived from records), recall provenance, and a search page."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from core import services
from core.admin.base import (
    AdminPage,
    ExtraPages,
    ReadOnlyPermissions,
    RecordServices,
    ServiceAdmin,
    admin_link,
)
from core.memory import services as memory_services
from core.models import Client, MemoryItem, MemoryRecall, Note, Project


@admin.register(Note)
class NoteAdmin(ServiceAdmin):
    edit_fields = services.NOTE_FIELDS
    record_services = RecordServices.named("note")
    info_fields = ("created_by", "created_at", "updated_at")
    list_display = ("excerpt", "client", "project", "pinned", "created_by", "created_at")
    list_filter = ("pinned",)
    list_select_related = ("client", "project", "created_by")
    search_fields = ("text",)
    autocomplete_fields = ("client", "project")

    @admin.display(description="Note")
    def excerpt(self, obj: Note) -> str:
        return obj.text[:120]


class SearchForm(forms.Form):
    """The arguments of `memory_recall`, by name: what the search page submits is what an agent's recall
    would ask."""

    query = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 60, "autofocus": True}))
    client = forms.ModelChoiceField(queryset=Client.objects.order_by("name"), required=False)
    project = forms.ModelChoiceField(
        queryset=Project.objects.select_related("client").order_by("client__name", "name"), required=False
    )
    tiers = forms.MultipleChoiceField(
        choices=MemoryItem.Tier.choices,
        initial=MemoryItem.Tier.values,
        widget=forms.CheckboxSelectMultiple,
    )
    mode = forms.ChoiceField(
        choices=[("recall", "Recall (wide, for drafting)"), ("precision", "Precision (strict, for actions)")],
        initial="recall",
    )
    k = forms.IntegerField(min_value=1, max_value=50, initial=8, label="Results")


@admin.register(MemoryItem)
class MemoryItemAdmin(ReadOnlyPermissions, ExtraPages, admin.ModelAdmin):
    """Memory is captured from records (write a note to add something), and forgotten through the
    action, which protects canonical memory."""

    list_display = (
        "excerpt",
        "tier",
        "kind",
        "client",
        "project",
        "mentions",
        "recall_count",
        "last_recalled_at",
        "created_at",
        "superseded",
        "untrusted",
    )
    list_filter = ("tier", "kind", "untrusted", ("superseded_by", admin.EmptyFieldListFilter), "client")
    list_select_related = ("client", "project")
    search_fields = ("text",)
    date_hierarchy = "created_at"
    actions = ["forget_selected"]
    extra_pages = (AdminPage("search/", "search_view", "search"),)
    fields = (
        "tier",
        "kind",
        "text",
        "client",
        "project",
        "untrusted",
        "origin",
        "source_link",
        "chunk",
        "task_link",
        "also_from",
        "importance",
        "mentions",
        "created_at",
        "last_recalled_at",
        "recall_count",
        "expires_at",
        "superseded_link",
        "supersedes_count",
        "embedding_model",
    )

    def lookup_allowed(self, lookup, value, request=None):
        # The task page links here to the items one task wrote.
        return lookup in ("source_task", "source_task__id__exact") or super().lookup_allowed(
            lookup, value, request
        )

    def get_queryset(self, request):
        # The vector and the tsvector are large and never shown.
        return super().get_queryset(request).defer("embedding", "search")

    @admin.display(description="Memory")
    def excerpt(self, obj: MemoryItem) -> str:
        return obj.text[:140]

    @admin.display(description="Superseded", boolean=True)
    def superseded(self, obj: MemoryItem) -> bool:
        return obj.superseded_by_id is not None

    @admin.display(description="Source")
    def source_link(self, obj: MemoryItem):
        return admin_link(obj.source) if obj.source_type_id else "—"

    @admin.display(description="Written by task")
    def task_link(self, obj: MemoryItem):
        if not obj.source_task_id:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("ledger:task", args=[obj.source_task_id]), obj.source_task_id
        )

    @admin.display(description="Superseded by")
    def superseded_link(self, obj: MemoryItem):
        return admin_link(obj.superseded_by) if obj.superseded_by_id else "—"

    @admin.display(description="Stands for")
    def supersedes_count(self, obj: MemoryItem) -> str:
        count = obj.supersedes.count()
        return f"{count} earlier item{'s' if count != 1 else ''}" if count else "—"

    @admin.action(description="Forget the selected memories")
    def forget_selected(self, request, queryset):
        try:
            count = memory_services.memory_forget(items=queryset)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        self.message_user(request, f"Forgot {count} memor{'y' if count == 1 else 'ies'}.", messages.SUCCESS)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "memory_search_url": reverse("admin:core_memoryitem_search"),
        }
        return super().changelist_view(request, extra_context)

    def search_view(self, request: HttpRequest):
        form = SearchForm(request.GET or None)
        results, error = None, ""
        if form.is_valid():
            try:
                results = memory_services.memory_recall(**form.cleaned_data)
            except ValidationError as exc:
                error = " ".join(exc.messages)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Search memory",
            "form": form,
            "results": results,
            "error": error,
        }
        return TemplateResponse(request, "admin/core/memory_search.html", context)


@admin.register(MemoryRecall)
class MemoryRecallAdmin(ReadOnlyPermissions, admin.ModelAdmin):
    list_display = ("query", "task", "step", "mode", "client", "k", "duration_ms", "created_at")
    list_select_related = ("task", "client")
    list_filter = ("mode",)
    search_fields = ("query",)
    fields = (
        "task",
        "step",
        "query",
        "mode",
        "tiers",
        "client",
        "project",
        "k",
        "results",
        "duration_ms",
        "created_at",
    )
