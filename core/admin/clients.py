"""Clients and their contacts in the back office."""

from __future__ import annotations

from django.contrib import admin

from core import services
from core.admin.base import CurrencyInUseFilter, ServiceAdmin, ServiceInline, count_of
from core.models import Client, Contact, Project


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
