"""The workspace in the back office."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core import services
from core.admin.base import ServiceAdmin
from core.models import Workspace


@admin.register(Workspace)
class WorkspaceAdmin(ServiceAdmin):
    edit_fields = services.WORKSPACE_FIELDS
    list_display = (
        "name",
        "operator_name",
        "operator_email",
        "invoice_prefix",
        "default_currency",
        "payment_terms_days",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # The workspace is a single row; once configured it is changed, not added again.
        return super().has_add_permission(request) and not Workspace.objects.exists()

    def create(self, request, form):
        return services.workspace_configure(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.workspace_configure(by=request.user, **changes)
