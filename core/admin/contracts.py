"""Contracts in the back office."""

from __future__ import annotations

from django.contrib import admin

from core import services
from core.admin.base import ClientCurrencyForm, CurrencyInUseFilter, ServiceAdmin, money_column
from core.models import Contract


class ContractForm(ClientCurrencyForm):
    ordered_dates = (("start_date", "end_date"),)


@admin.register(Contract)
class ContractAdmin(ServiceAdmin):
    form = ContractForm
    create_fields = ("client",)
    edit_fields = (
        "title",
        "project",
        "status",
        "value",
        "currency",
        "start_date",
        "end_date",
        "signed_at",
        "document",
        "terms",
    )
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
