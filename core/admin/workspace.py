"""The workspace and its catalogue in the back office: the workspace itself, pricing rules and action
templates."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core import services
from core.admin.base import CurrencyInUseFilter, ServiceAdmin, money_column
from core.models import ActionTemplate, PricingRule, Workspace


@admin.register(Workspace)
class WorkspaceAdmin(ServiceAdmin):
    edit_fields = services.WORKSPACE_FIELDS
    list_display = services.WORKSPACE_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The workspace is a single row; once configured it is changed, not added again.
        return super().has_add_permission(request) and not Workspace.objects.exists()

    def create(self, request, form):
        return services.workspace_configure(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.workspace_configure(by=request.user, **changes)


@admin.register(PricingRule)
class PricingRuleAdmin(ServiceAdmin):
    create_fields = ("service_key",)
    edit_fields = services.PRICING_FIELDS
    list_display = (
        "service_key",
        "name",
        "unit",
        money_column("unit_price", "Unit price"),
        "min_units",
        "active",
    )
    list_filter = ("active", ("currency", CurrencyInUseFilter))
    search_fields = ("service_key", "name", "description")

    def create(self, request, form):
        return services.pricing_rule_upsert(by=request.user, **form.cleaned_data)[0]

    def update(self, request, obj, changes):
        services.pricing_rule_upsert(service_key=obj.service_key, by=request.user, **changes)

    def delete(self, request, obj):
        services.pricing_rule_delete(rule=obj, by=request.user)


@admin.register(ActionTemplate)
class ActionTemplateAdmin(ServiceAdmin):
    create_fields = ("key",)
    edit_fields = services.TEMPLATE_FIELDS
    list_display = ("key", "name", "kind", "subject", "active")
    list_filter = ("kind", "active")
    search_fields = ("key", "name", "subject", "body")

    def create(self, request, form):
        return services.action_template_upsert(by=request.user, **form.cleaned_data)[0]

    def update(self, request, obj, changes):
        services.action_template_upsert(key=obj.key, by=request.user, **changes)

    def delete(self, request, obj):
        services.action_template_delete(template=obj, by=request.user)
