"""Clients and what the workspace has with each in the back office: contacts, projects and their
deliverables, contracts."""

from __future__ import annotations

from django.contrib import admin

from core import ports, services
from core.admin.actions import service_action
from core.admin.base import (
    ClientCurrencyForm,
    ClientRecordAdmin,
    CountColumn,
    CurrencyInUseFilter,
    RecordServices,
    ServiceAdmin,
    ServiceInline,
    money_column,
)
from core.models import Client, Contact, Contract, Deliverable, Project


def _client_data_requested(request, client: Client, kind: str) -> str:
    task = ports.client_data_request(client=client, kind=kind, by=request.user)
    return f"{client} (task {str(task.pk)[:8]})"


class ContactInline(ServiceInline):
    model = Contact


@admin.register(Client)
class ClientAdmin(ServiceAdmin):
    edit_fields = services.CLIENT_FIELDS
    record_services = RecordServices.named("client")
    list_display = (
        "name",
        "status",
        "kind",
        "email",
        "country",
        "default_currency",
        CountColumn(Project, "client", description="Projects"),
        "updated_at",
    )
    list_filter = ("status", "kind", ("default_currency", CurrencyInUseFilter))
    search_fields = ("name", "email", "contacts__name", "contacts__email")
    date_hierarchy = "created_at"
    inlines = (ContactInline,)
    actions = ("client_data_export", "client_data_erase")

    # A client's data leaves or is erased only through the ledger: each action starts a task whose effect
    # waits in the approval queue (a hard floor): the operator confirms it with the counts in front of them.
    client_data_export = service_action(
        lambda request, client: _client_data_requested(request, client, "export"),
        description="Export all their data (zip; waits for your approval)",
        done="Export asked for; approve it in the approval queue",
    )
    client_data_erase = service_action(
        lambda request, client: _client_data_requested(request, client, "erase"),
        description="Erase their personal data (keeps issued invoices; waits for your approval)",
        done="Erasure asked for; approve it in the approval queue",
    )


@admin.register(Contact)
class ContactAdmin(ServiceAdmin):
    create_fields = ("client",)
    edit_fields = services.CONTACT_FIELDS
    record_services = RecordServices.named("contact")
    list_display = ("name", "email", "client", "role", "phone", "is_primary")
    list_select_related = ("client",)
    list_filter = ("is_primary",)
    search_fields = ("name", "email", "client__name")
    autocomplete_fields = ("client",)


class ProjectForm(ClientCurrencyForm):
    ordered_dates = (("start_date", "due_date"),)


class DeliverableInline(ServiceInline):
    model = Deliverable


@admin.register(Project)
class ProjectAdmin(ClientRecordAdmin):
    form = ProjectForm
    edit_fields = services.PROJECT_FIELDS
    record_services = RecordServices.named("project")
    list_display = ("name", "client", "status", money_column("budget", "Budget"), "start_date", "due_date")
    list_select_related = ("client",)
    search_fields = ("name", "client__name")
    autocomplete_fields = ("client",)
    inlines = (DeliverableInline,)


@admin.register(Deliverable)
class DeliverableAdmin(ServiceAdmin):
    create_fields = ("project",)
    edit_fields = services.DELIVERABLE_FIELDS
    record_services = RecordServices.named("deliverable")
    list_display = ("title", "project", "client", "status", "due_date", "estimate_hours")
    list_select_related = ("project__client",)
    list_filter = ("status",)
    search_fields = ("title", "project__name", "project__client__name")
    date_hierarchy = "due_date"
    autocomplete_fields = ("project",)

    @admin.display(description="Client", ordering="project__client__name")
    def client(self, obj: Deliverable) -> Client:
        return obj.project.client


class ContractForm(ClientCurrencyForm):
    ordered_dates = (("start_date", "end_date"),)


@admin.register(Contract)
class ContractAdmin(ClientRecordAdmin):
    form = ContractForm
    edit_fields = services.CONTRACT_FIELDS
    record_services = RecordServices.named("contract", delete="delete_draft")
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
    search_fields = ("title", "client__name", "project__name")
    autocomplete_fields = ("client", "project", "document")
