"""The workspace and its catalogue in the back office: the workspace itself, pricing rules and action
templates."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from core import services
from core.admin.base import (
    CurrencyInUseFilter,
    RecordServices,
    ServiceAdmin,
    ServiceForm,
    admin_link,
    money_column,
)
from core.models import ActionTemplate, PricingRule, Workspace


class WorkspaceForm(ServiceForm):
    logo_image = forms.ImageField(
        required=False,
        label="Logo",
        help_text="A PNG or JPEG printed at the top of invoices (about 600 px wide is plenty).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "default_tax_rate" in self.fields:
            self.fields["default_tax_rate"].required = False

    def clean_default_tax_rate(self):
        # The business details can be filled in later: a blank rate is 0 % until then.
        rate = self.cleaned_data.get("default_tax_rate")
        return Decimal("0") if rate is None else rate


@admin.register(Workspace)
class WorkspaceAdmin(ServiceAdmin):
    form = WorkspaceForm
    edit_fields = (*(field for field in services.WORKSPACE_FIELDS if field != "logo"), "logo_image")
    info_fields = ("logo_link", "created_at", "updated_at")
    list_display = ("name", "legal_name", "invoice_prefix", "default_currency", "country", "vat_id")
    fieldsets_sections = (
        (None, ("name", "operator_name", "operator_email")),
        (
            "Invoicing",
            (
                "invoice_prefix",
                "default_currency",
                "default_tax_rate",
                "payment_terms_days",
                "deposit_percent",
                "late_payment_text",
            ),
        ),
        (
            "Business details (printed on invoices)",
            ("legal_name", "street", "postcode", "city", "country", "vat_id", "iban", "bic", "logo_image"),
        ),
    )

    def get_fieldsets(self, request, obj=None):
        sections = [(title, {"fields": fields}) for title, fields in self.fieldsets_sections]
        if obj is not None:
            sections.append(("Record", {"fields": self.info_fields}))
        return sections

    @admin.display(description="Current logo")
    def logo_link(self, obj: Workspace) -> str | None:
        return admin_link(obj.logo)

    def save_model(self, request, obj, form, change):
        # The upload becomes an artifact (stored once per content); the workspace points at it.
        upload = form.cleaned_data.pop("logo_image", None)
        if upload:
            artifact, _ = services.artifact_store(
                by=request.user,
                content=upload.read(),
                filename=upload.name,
                mime_type=getattr(upload, "content_type", "") or "image/png",
            )
            form.cleaned_data["logo"] = artifact
        super().save_model(request, obj, form, change)

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
    record_services = RecordServices(record="rule", delete=services.pricing_rule_delete)
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


@admin.register(ActionTemplate)
class ActionTemplateAdmin(ServiceAdmin):
    create_fields = ("key",)
    edit_fields = services.TEMPLATE_FIELDS
    record_services = RecordServices(record="template", delete=services.action_template_delete)
    list_display = ("key", "name", "kind", "subject", "active")
    list_filter = ("kind", "active")
    search_fields = ("key", "name", "subject", "body")

    def create(self, request, form):
        return services.action_template_upsert(by=request.user, **form.cleaned_data)[0]

    def update(self, request, obj, changes):
        services.action_template_upsert(key=obj.key, by=request.user, **changes)
