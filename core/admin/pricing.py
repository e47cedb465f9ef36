"""Pricing rules in the back office."""

from __future__ import annotations

from django.contrib import admin

from core import services
from core.admin.base import CurrencyInUseFilter, ServiceAdmin, money_column
from core.models import PricingRule


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
