"""Decisions in the back office; a decision is recorded, never edited."""

from __future__ import annotations

from django.contrib import admin

from core import clock, services
from core.admin.base import ReadOnlyServiceAdmin, admin_link
from core.models import Decision


@admin.register(Decision)
class DecisionAdmin(ReadOnlyServiceAdmin):
    create_fields = ("title", "rationale", "client", "project", "decided_at")
    info_fields = ("decided_by", "subject_link", "created_at")
    list_display = ("title", "client", "project", "decided_by", "decided_at")
    list_select_related = ("client", "project", "decided_by")
    search_fields = ("title", "rationale")
    date_hierarchy = "decided_at"
    autocomplete_fields = ("client", "project")

    @admin.display(description="About")
    def subject_link(self, obj: Decision) -> str | None:
        return admin_link(obj.subject)

    def get_changeform_initial_data(self, request):
        return {"decided_at": clock.now(), **super().get_changeform_initial_data(request)}

    def create(self, request, form):
        return services.decision_record(by=request.user, **form.cleaned_data)
