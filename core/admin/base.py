"""What every admin of the back office builds on: writing through services (declared per record with
`RecordServices`), showing their refusals on the form, and display helpers. The admin actions that
call a service per row are in `actions`; the priced lines of proposals and invoices build on this in
`lines`.

Imports no other admin module, so every one of them can import this.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from core import services


def money_column(field: str, description: str, *, currency: str = "currency") -> Callable[[Any], str | None]:
    """A list column showing an amount with its currency.

    templates/admin/core/change_list.html right-aligns columns whose name starts with `money_`.
    """
    currency_of = operator.attrgetter(currency)

    @admin.display(description=description, ordering=field)
    def column(obj: models.Model) -> str | None:
        amount = getattr(obj, field)
        return None if amount is None else f"{amount:,.2f}\u00a0{currency_of(obj)}"

    column.__name__ = f"money_{field}"
    return column


class CountColumn:
    """A list column: how many `model` rows point at each row through `field`, sortable by that number.
    A `ServiceAdmin` annotates its rows with each such column of its `list_display`."""

    def __init__(self, model: type[models.Model], field: str, *, description: str):
        self.model, self.field = model, field
        # What Django reads from a callable column: its name (the CSS class), its label and its ordering.
        self.__name__ = f"{model._meta.model_name}_count"
        self.short_description = description
        self.admin_order_field = self.__name__

    def __call__(self, obj: models.Model) -> int:
        return getattr(obj, self.__name__)

    def annotation(self) -> Coalesce:
        """The count as a subquery: unlike a joined Count it leaves the changelist's COUNT and date queries
        free of GROUP BY."""
        rows = (
            self.model.objects.filter(**{self.field: OuterRef("pk")})
            .order_by()
            .values(self.field)
            .annotate(n=Count("pk"))
        )
        return Coalesce(Subquery(rows.values("n")), 0)


def admin_link(obj: models.Model | None) -> str | None:
    if obj is None:
        return None
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(obj)
    return format_html('<a href="{}">{}</a>', url, obj)


class CurrencyInUseFilter(admin.AllValuesFieldListFilter):
    """Offer the currencies the records use, not all 180 ISO 4217 codes."""


@dataclass(frozen=True)
class RecordServices:
    """The services that write one kind of record, called the same way from every admin and inline
    that declares them (an admin whose calls differ implements its own `create`, `update` or `delete`):

    - `create(by=user, **fields)`; from an inline, `create(<parent>=row.<parent>, by=user, **fields)`;
    - `update(<record>=obj, by=user, **changes)` and `delete(<record>=obj, by=user)`;
    - `save(<record>=obj, by=user)` for priced lines, which a service both adds and changes from the
      row as it stands.
    """

    record: str
    create: Callable[..., models.Model] | None = None
    update: Callable[..., Any] | None = None
    delete: Callable[..., Any] | None = None
    save: Callable[..., Any] | None = None

    @classmethod
    def named(cls, record: str, *, delete: str = "delete") -> RecordServices:
        """The services of `core.services` named after the record, as its writes are named:
        `<record>_create`, `<record>_update` and `<record>_<delete>` (`delete="delete_draft"` where only a
        draft may be deleted). A missing one fails when the admin is imported, not when it is used."""
        return cls(
            record=record,
            create=getattr(services, f"{record}_create"),
            update=getattr(services, f"{record}_update"),
            delete=getattr(services, f"{record}_{delete}"),
        )


def declared_service(owner: ServiceAdmin | ServiceInline, write: str) -> Callable[..., Any]:
    """The service `owner` declares for `write` ("create", "update", "delete" or "save")."""
    service = None if owner.record_services is None else getattr(owner.record_services, write)
    if service is None:
        raise NotImplementedError(
            f"{type(owner).__name__} declares no {write} service and has no {write} of its own"
        )
    return service


def record_of(owner: ServiceAdmin | ServiceInline, obj: models.Model) -> dict[str, models.Model]:
    """The keyword argument by which the declared services take the record."""
    return {owner.record_services.record: obj}


@dataclass(frozen=True)
class AdminPage:
    """A page an admin serves beside Django's own: `route` below the model's admin URL, served by the
    admin's method `view` behind the site's login, and named `<app>_<model>_<name>` as Django names
    its own."""

    route: str
    view: str
    name: str


class ExtraPages:
    """For an admin that serves `extra_pages` (a file to download, a form of its own) besides the list and
    change pages; they are matched first, before the change page's catch-all route."""

    extra_pages: tuple[AdminPage, ...] = ()

    def get_urls(self) -> list[URLPattern]:
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        pages = [
            path(
                page.route, self.admin_site.admin_view(getattr(self, page.view)), name=f"{prefix}_{page.name}"
            )
            for page in self.extra_pages
        ]
        return [*pages, *super().get_urls()]


class ReadOnlyPermissions:
    """Rows viewed here, never added, changed or deleted (for admins and inlines alike).

    Every field shown is read-only, so `fields` may also name the admin's own display methods without
    repeating them as `readonly_fields` (Django builds no form field for a read-only name).
    """

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        return self.fields or super().get_readonly_fields(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceRefused(Exception):
    """A service refused a write submitted from a form; the form is shown again with its reasons."""

    def __init__(self, error: ValidationError):
        super().__init__(error)
        self.error = error


@contextmanager
def refusal_on_validation_error() -> Iterator[None]:
    try:
        yield
    except ValidationError as exc:
        raise ServiceRefused(exc) from exc


def adopt(instance: models.Model, stored: models.Model) -> None:
    """Make the admin's unsaved instance the row a service created.

    The admin goes on using the instance it built (for the log entry, the inlines' parent and the
    redirect), but services create their own; this gives the admin's instance the stored identity.
    """
    for field in stored._meta.concrete_fields:
        setattr(instance, field.attname, getattr(stored, field.attname))
    instance._state.adding = False
    instance._state.db = stored._state.db


def changes_from(form: forms.ModelForm, stored: models.Model) -> dict[str, Any]:
    """The submitted values that differ from the stored row.

    Compared with the database rather than with the form's initial data, because the history revert
    form starts from an old version, not from the row as it is now.
    """
    changes = {}
    for name, value in form.cleaned_data.items():
        stored_value = stored._meta.get_field(name).value_from_object(stored)
        if getattr(value, "pk", value) != stored_value:
            changes[name] = value
    return changes


class ServiceForm(forms.ModelForm):
    """Base form of the back office.

    `service_refusal` is set by `ServiceAdmin` when a service refused the previous attempt at saving
    this very submission; the form then reports the service's reasons next to the fields they name.
    """

    service_refusal: ValidationError | None = None
    # (start, end) date fields whose order the database checks; said here in words rather than by
    # the constraint's name.
    ordered_dates: tuple[tuple[str, str], ...] = ()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name, field in self.fields.items():
            # The database accepts trimmed lower-case addresses only.
            if isinstance(field, forms.EmailField) and cleaned.get(name):
                cleaned[name] = services.email_normalise(cleaned[name], field=name)
        for start, end in self.ordered_dates:
            if cleaned.get(start) and cleaned.get(end) and cleaned[end] < cleaned[start]:
                self.add_error(end, "This date cannot be before the start date.")
        if self.service_refusal is not None:
            self._report_refusal(self.service_refusal)
        return cleaned

    def _report_refusal(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for field, field_messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, field_messages)


class ClientCurrencyForm(ServiceForm):
    """A new project, proposal, invoice or contract is in its client's currency unless one is chosen."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        currency = self.fields.get("currency")
        if currency is not None and self.instance._state.adding:
            currency.required = False
            currency.choices = [("", "The client's currency"), *(c for c in currency.choices if c[0])]
            currency.initial = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "currency" in self.fields and not cleaned.get("currency"):
            client = cleaned.get("client")
            # Without a valid client the form fails anyway; the model's default keeps that the only error.
            cleaned["currency"] = client.default_currency if client else self.instance.currency
        return cleaned


class ServiceAdmin(SimpleHistoryAdmin):
    """An admin whose writes are made by `core.services`.

    Subclasses name the fields a service takes when a record is created (`create_fields`, read-only
    afterwards) and when it is changed (`edit_fields`), the computed or state fields shown read-only
    (`info_fields`), and declare the services that write the record (`record_services`) or implement
    `create`, `update` and `delete` themselves. `can_change` and `can_delete` say what the services
    allow for a record.
    """

    form = ServiceForm
    # An address typed without a scheme ("example.com") is a secure site today.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    create_fields: tuple[str, ...] = ()
    edit_fields: tuple[str, ...] = ()
    info_fields: tuple[str, ...] = ("created_at", "updated_at")
    record_services: RecordServices | None = None

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        counts = {
            column.__name__: column.annotation()
            for column in self.get_list_display(request)
            if isinstance(column, CountColumn)
        }
        return queryset.annotate(**counts) if counts else queryset

    def create(self, request: HttpRequest, form: forms.ModelForm) -> models.Model:
        return declared_service(self, "create")(by=request.user, **form.cleaned_data)

    def update(self, request: HttpRequest, obj: models.Model, changes: dict[str, Any]) -> None:
        declared_service(self, "update")(**record_of(self, obj), by=request.user, **changes)

    def can_change(self, obj: models.Model) -> bool:
        return True

    def delete(self, request: HttpRequest, obj: models.Model) -> None:
        """The service that deletes one record; admins without one offer no delete."""
        declared_service(self, "delete")(**record_of(self, obj), by=request.user)

    def can_delete(self, obj: models.Model) -> bool:
        declared = self.record_services is not None and self.record_services.delete is not None
        if type(self).delete is ServiceAdmin.delete and not declared:
            return False
        try:
            services.record_delete_check(record=obj)
        except ValidationError:
            return False
        return True

    def get_deleted_objects(self, objs, request: HttpRequest):
        # The confirmation page (single and bulk) lists what the services refuse to delete as
        # "protected", so Django shows why and deletes nothing instead of failing half-way.
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        for obj in objs:
            try:
                services.record_delete_check(record=obj)
            except ValidationError as exc:
                protected = [*protected, " ".join(exc.messages)]
        return to_delete, model_count, perms_needed, protected

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        self.delete(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.delete(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or self.can_change(obj))

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or self.can_delete(obj))

    def get_fields(self, request: HttpRequest, obj: models.Model | None = None) -> list[str]:
        if obj is None:
            return [*self.create_fields, *self.edit_fields]
        return [*self.create_fields, *self.edit_fields, *self.info_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None) -> list[str]:
        return [] if obj is None else [*self.create_fields, *self.info_fields]

    def get_form(
        self, request: HttpRequest, obj: models.Model | None = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "service_refusal", None)
        if refusal is None:
            return form
        return type(form.__name__, (form,), {"service_refusal": refusal})

    def save_model(
        self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool
    ) -> None:
        with refusal_on_validation_error():
            if not change:
                adopt(obj, self.create(request, form))
                return
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            if stored is None:
                raise ValidationError("This record has been deleted since; it cannot be changed or reverted.")
            changes = changes_from(form, stored)
            if changes:
                self.update(request, obj, changes)

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        # Collects the new, changed and deleted rows (which the change message reads too) without writing.
        formset.save(commit=False)
        inline = next(
            (
                inline
                for inline in self.get_inline_instances(request, form.instance)
                if isinstance(inline, ServiceInline) and inline.model is formset.model
            ),
            None,
        )
        if inline is None:
            return  # a read-only inline: Django already ignores any row submitted to it
        with refusal_on_validation_error():
            for obj in formset.deleted_objects:
                inline.delete(request, obj)
            for obj, changed in formset.changed_objects:
                inline.update(request, obj, changed)
            for obj in formset.new_objects:
                inline.create(request, obj)

    def showing_refusals(
        self, request: HttpRequest, view: Callable[..., HttpResponse], *args: Any
    ) -> HttpResponse:
        """Run a form view; if a service refuses the write, roll back and show the form with the reasons."""
        try:
            with transaction.atomic():
                return view(*args)
        except ServiceRefused as refused:
            request.service_refusal = refused.error
            return view(*args)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict | None = None,
    ) -> HttpResponse:
        return self.showing_refusals(
            request, super().changeform_view, request, object_id, form_url, extra_context
        )

    def require_valid_ids(self, object_id: str, version_id: str | None = None) -> None:
        # The history URLs accept any text; a malformed id is a missing page, not a server error.
        try:
            self.opts.pk.to_python(unquote(object_id))
            if version_id is not None:
                int(version_id)
        except (ValidationError, ValueError):
            raise Http404 from None

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        self.require_valid_ids(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        self.require_valid_ids(object_id, version_id)
        if request.method == "POST":
            # simple-history only hides the Revert button; a submitted revert must be refused here.
            version = self.model.history.filter(
                **{self.opts.pk.attname: unquote(object_id), "history_id": version_id}
            ).first()
            if version is None:
                raise Http404
            if self.revert_disabled(request, version.instance):
                raise PermissionDenied
        return self.showing_refusals(
            request, super().history_form_view, request, object_id, version_id, extra_context
        )


class ClientRecordAdmin(ServiceAdmin):
    """A project, contract, proposal or invoice: made for a client, who is chosen once, in the client's
    currency unless another is chosen (`ClientCurrencyForm`, or a subclass of it), and listed by status
    and the currencies in use."""

    form = ClientCurrencyForm
    create_fields = ("client",)
    list_filter = ("status", ("currency", CurrencyInUseFilter))
    date_hierarchy = "created_at"


class ReadOnlyServiceAdmin(ServiceAdmin):
    """Records that services create but never change: they are viewed, not edited or reverted."""

    def can_change(self, obj: models.Model) -> bool:
        return False


class ServiceInline(admin.TabularInline):
    """An inline whose rows are written by services, called from `ServiceAdmin.save_formset`, as the admin
    registered for the rows' model writes them: with its `record_services` and, unless the inline names
    its own `fields`, its `edit_fields`. A new row is created for the record whose page shows it.
    """

    form = ServiceForm
    extra = 0

    @property
    def record_admin(self) -> ServiceAdmin:
        return self.admin_site.get_model_admin(self.model)

    @property
    def record_services(self) -> RecordServices | None:
        return self.record_admin.record_services

    @cached_property
    def parent_field(self) -> str:
        """The rows' foreign key to the record whose page shows them (the one the formset fills in)."""
        return next(
            field.name
            for field in self.model._meta.concrete_fields
            if field.many_to_one and field.related_model is self.parent_model
        )

    def get_fields(self, request: HttpRequest, obj: models.Model | None = None) -> Sequence[str]:
        return self.fields or self.record_admin.edit_fields

    def create(self, request: HttpRequest, obj: models.Model) -> None:
        declared_service(self, "create")(
            **{self.parent_field: getattr(obj, self.parent_field)},
            by=request.user,
            **{name: getattr(obj, name) for name in self.get_fields(request)},
        )

    def update(self, request: HttpRequest, obj: models.Model, changed: list[str]) -> None:
        declared_service(self, "update")(
            **record_of(self, obj), by=request.user, **{name: getattr(obj, name) for name in changed}
        )

    def delete(self, request: HttpRequest, obj: models.Model) -> None:
        declared_service(self, "delete")(**record_of(self, obj), by=request.user)
