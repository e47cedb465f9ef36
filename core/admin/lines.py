"""The priced lines of proposals and invoices: the inline on the document's page and the line's own admin.

Amounts and the document's totals are computed by the line services (`save` and `delete`), and only a
draft's lines can change.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import MaxValueValidator
from django.http import HttpRequest

from core import services
from core.admin.base import (
    RecordServices,
    ServiceAdmin,
    ServiceForm,
    ServiceInline,
    declared_service,
    money_column,
    record_of,
)
from core.models import Invoice, Proposal

LINE_FIELDS = ("position", "description", "service_key", "quantity", "unit", "unit_price", "tax_rate")
AMOUNTS = ("amount", "tax_amount")


class LineForm(ServiceForm):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if "tax_rate" in self.fields:
            self.fields["tax_rate"].validators.append(MaxValueValidator(100))


def is_draft(model: type[Invoice] | type[Proposal], pk: int | None) -> bool:
    """Whether the stored document is a draft now (a history version may show an older status)."""
    return model.objects.filter(pk=pk, status=model.Status.DRAFT).exists()


class LineInline(ServiceInline):
    """A document's lines on its page, written by the services of the line's own admin."""

    form = LineForm
    fields = (*LINE_FIELDS, *AMOUNTS)
    readonly_fields = AMOUNTS

    def save_line(self, request: HttpRequest, line: Any) -> None:
        declared_service(self, "save")(**record_of(self, line), by=request.user)

    def create(self, request, obj):
        self.save_line(request, obj)

    def update(self, request, obj, changed):
        self.save_line(request, obj)

    def document_is_draft(self, document: Invoice | Proposal | None) -> bool:
        return document is None or document.is_editable

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self.document_is_draft(obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.document_is_draft(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.document_is_draft(obj)


class LineAdmin(ServiceAdmin):
    """One priced line on its own: its history, and a list of what was quoted or billed.

    A subclass names its document (`document_field`, `document_model`, and `document_search`, the
    document's field a search matches); its services, the list, its filter and its search follow from
    the document, the same for proposals and invoices.
    """

    form = LineForm
    document_field: str
    document_model: type[Invoice] | type[Proposal]
    document_search: str
    edit_fields = LINE_FIELDS
    info_fields = AMOUNTS

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        document = cls.document_field
        # Named as the other services are (`RecordServices.named`): `<document>_line_save`, `…_delete`.
        cls.record_services = RecordServices(
            record="line",
            save=getattr(services, f"{document}_line_save"),
            delete=getattr(services, f"{document}_line_delete"),
        )
        cls.create_fields = (document,)
        cls.list_display = (
            "description",
            document,
            "quantity",
            "unit",
            money_column("unit_price", "Unit price", currency=f"{document}.currency"),
            "tax_rate",
            money_column("amount", "Amount", currency=f"{document}.currency"),
        )
        cls.list_select_related = (document,)
        cls.list_filter = (f"{document}__status",)
        cls.search_fields = ("description", "service_key", f"{document}__{cls.document_search}")
        cls.autocomplete_fields = (document,)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(self.document_field)

    def document(self, line: Any) -> Invoice | Proposal:
        return getattr(line, self.document_field)

    def save_line(self, request: HttpRequest, line: Any) -> None:
        declared_service(self, "save")(**record_of(self, line), by=request.user)

    def create(self, request, form):
        self.save_line(request, form.instance)
        return form.instance

    def update(self, request, obj, changes):
        self.save_line(request, obj)

    def delete_queryset(self, request, queryset):
        # Unlike ServiceAdmin's, not one transaction: a refused line leaves the lines before it deleted.
        for line in queryset:
            self.delete(request, line)

    def can_change(self, obj):
        return self.document(obj).is_editable

    def can_delete(self, obj):
        return self.document(obj).is_editable

    def revert_disabled(self, request, obj=None):
        return super().revert_disabled(request, obj) or (
            obj is not None and not is_draft(self.document_model, getattr(obj, f"{self.document_field}_id"))
        )
