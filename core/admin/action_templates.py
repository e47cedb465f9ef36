"""Action templates in the back office."""

from __future__ import annotations

from django.contrib import admin

from core import services
from core.admin.base import ServiceAdmin
from core.models import ActionTemplate


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
