"""Projects and their deliverables in the back office."""

from __future__ import annotations

from django.contrib import admin

from core import services
from core.admin.base import ClientCurrencyForm, CurrencyInUseFilter, ServiceAdmin, ServiceInline, money_column
from core.models import Client, Deliverable, Project


class ProjectForm(ClientCurrencyForm):
    ordered_dates = (("start_date", "due_date"),)


class DeliverableInline(ServiceInline):
    model = Deliverable
    fields = services.DELIVERABLE_FIELDS

    def create(self, request, obj):
        services.deliverable_create(
            project=obj.project, by=request.user, **{name: getattr(obj, name) for name in self.fields}
        )

    def update(self, request, obj, changed):
        services.deliverable_update(
            deliverable=obj, by=request.user, **{name: getattr(obj, name) for name in changed}
        )

    def delete(self, request, obj):
        services.deliverable_delete(deliverable=obj, by=request.user)


@admin.register(Project)
class ProjectAdmin(ServiceAdmin):
    form = ProjectForm
    create_fields = ("client",)
    edit_fields = services.PROJECT_FIELDS
    list_display = ("name", "client", "status", money_column("budget", "Budget"), "start_date", "due_date")
    list_select_related = ("client",)
    list_filter = ("status", ("currency", CurrencyInUseFilter))
    search_fields = ("name", "client__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("client",)
    inlines = (DeliverableInline,)

    def create(self, request, form):
        return services.project_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.project_update(project=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.project_delete(project=obj, by=request.user)


@admin.register(Deliverable)
class DeliverableAdmin(ServiceAdmin):
    create_fields = ("project",)
    edit_fields = services.DELIVERABLE_FIELDS
    list_display = ("title", "project", "client", "status", "due_date", "estimate_hours")
    list_select_related = ("project__client",)
    list_filter = ("status",)
    search_fields = ("title", "project__name", "project__client__name")
    date_hierarchy = "due_date"
    autocomplete_fields = ("project",)

    @admin.display(description="Client", ordering="project__client__name")
    def client(self, obj: Deliverable) -> Client:
        return obj.project.client

    def create(self, request, form):
        return services.deliverable_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.deliverable_update(deliverable=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.deliverable_delete(deliverable=obj, by=request.user)
