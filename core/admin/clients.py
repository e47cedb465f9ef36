"""Clients and what the workspace has with each in the back office: contacts, projects and their
deliverables, contracts."""

from __future__ import annotations

from django.contrib import admin

from core import services
from core.admin.base import (
    ClientCurrencyForm,
    CurrencyInUseFilter,
    ServiceAdmin,
    ServiceInline,
    count_of,
    money_column,
)
from core.models import Client, Contact, Contract, Deliverable, Project


class ContactInline(ServiceInline):
    model = Contact
    fields = services.CONTACT_FIELDS

    def create(self, request, obj):
        services.contact_create(
            client=obj.client, by=request.user, **{name: getattr(obj, name) for name in self.fields}
        )

    def update(self, request, obj, changed):
        services.contact_update(
            contact=obj, by=request.user, **{name: getattr(obj, name) for name in changed}
        )

    def delete(self, request, obj):
        services.contact_delete(contact=obj, by=request.user)


@admin.register(Client)
class ClientAdmin(ServiceAdmin):
    edit_fields = services.CLIENT_FIELDS
    list_display = (
        "name",
        "status",
        "kind",
        "email",
        "country",
        "default_currency",
        "project_count",
        "updated_at",
    )
    list_filter = ("status", "kind", ("default_currency", CurrencyInUseFilter))
    search_fields = ("name", "email", "contacts__name", "contacts__email")
    date_hierarchy = "created_at"
    inlines = (ContactInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(project_count=count_of(Project, "client"))

    @admin.display(description="Projects", ordering="project_count")
    def project_count(self, obj: Client) -> int:
        return obj.project_count

    def create(self, request, form):
        return services.client_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.client_update(client=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.client_delete(client=obj, by=request.user)


@admin.register(Contact)
class ContactAdmin(ServiceAdmin):
    create_fields = ("client",)
    edit_fields = services.CONTACT_FIELDS
    list_display = ("name", "email", "client", "role", "phone", "is_primary")
    list_select_related = ("client",)
    list_filter = ("is_primary",)
    search_fields = ("name", "email", "client__name")
    autocomplete_fields = ("client",)

    def create(self, request, form):
        return services.contact_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.contact_update(contact=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.contact_delete(contact=obj, by=request.user)


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


class ContractForm(ClientCurrencyForm):
    ordered_dates = (("start_date", "end_date"),)


@admin.register(Contract)
class ContractAdmin(ServiceAdmin):
    form = ContractForm
    create_fields = ("client",)
    edit_fields = services.CONTRACT_FIELDS
    list_display = (
        "title",
        "client",
        "project",
        "status",
        money_column("value", "Value"),
        "start_date",
        "end_date",
        "signed_at",
    )
    list_select_related = ("client", "project")
    list_filter = ("status", ("currency", CurrencyInUseFilter))
    search_fields = ("title", "client__name", "project__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("client", "project", "document")

    def create(self, request, form):
        return services.contract_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.contract_update(contract=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.contract_delete_draft(contract=obj, by=request.user)
