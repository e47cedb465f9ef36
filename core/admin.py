"""The back office for the canonical records.

Every write made here goes through `core.services`, exactly as the API and the agents' commits do:
the admin's forms only parse input. A service's `ValidationError` becomes an error on the form
(see `ServiceAdmin`), never a server error. Records that a service does not let change (issued
invoices, sent proposals, messages, files, decisions) are shown read-only, their history can be
read but not reverted, and nothing is deleted for which no service exists.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator
from django.db import models, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat, pluralize
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from core import (
    admin_tokens,  # noqa: F401 - registers the API token admin
    services,
)
from core.models import (
    ActionTemplate,
    Artifact,
    Client,
    Contact,
    Contract,
    Conversation,
    Decision,
    Deliverable,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Message,
    PricingRule,
    Project,
    Proposal,
    ProposalLine,
    Workspace,
)

LINE_FIELDS = ("position", "description", "service_key", "quantity", "unit", "unit_price", "tax_rate")


# --- Display helpers ------------------------------------------------------------------------


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


def count_of(model: type[models.Model], field: str) -> Coalesce:
    """How many `model` rows point at each row through `field`, as a subquery: unlike a joined Count it
    leaves the changelist's COUNT and date queries free of GROUP BY."""
    rows = model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk"))
    return Coalesce(Subquery(rows.values("n")), 0)


def admin_link(obj: models.Model | None) -> str | None:
    if obj is None:
        return None
    try:
        url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return str(obj)
    return format_html('<a href="{}">{}</a>', url, obj)


# --- Writing through services ---------------------------------------------------------------


class CurrencyInUseFilter(admin.AllValuesFieldListFilter):
    """Offer the currencies the records use, not all 180 ISO 4217 codes."""


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


class ProjectForm(ClientCurrencyForm):
    ordered_dates = (("start_date", "due_date"),)


class ContractForm(ClientCurrencyForm):
    ordered_dates = (("start_date", "end_date"),)


class LineForm(ServiceForm):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if "tax_rate" in self.fields:
            self.fields["tax_rate"].validators.append(MaxValueValidator(100))


class AddressListField(forms.CharField):
    """Email addresses separated by commas, stored as a list of normalised addresses."""

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        try:
            return [services.email_normalise(part) for part in re.split(r"[,;\s]+", text) if part]
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class MessageForm(ServiceForm):
    to = AddressListField(required=False, help_text="Addresses separated by commas.")
    cc = AddressListField(required=False, help_text="Addresses separated by commas.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("channel") == "email" and not cleaned.get("message_id"):
            self.add_error("message_id", "An email message needs a Message-ID.")
        return cleaned


class ServiceAdmin(SimpleHistoryAdmin):
    """An admin whose writes are made by `core.services`.

    Subclasses name the fields a service takes when a record is created (`create_fields`, read-only
    afterwards) and when it is changed (`edit_fields`), the computed or state fields shown read-only
    (`info_fields`), and implement `create` and `update` with one service call each. `can_change` and
    `can_delete` say what the services allow for a record.
    """

    form = ServiceForm
    # An address typed without a scheme ("example.com") is a secure site today.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    create_fields: tuple[str, ...] = ()
    edit_fields: tuple[str, ...] = ()
    info_fields: tuple[str, ...] = ("created_at", "updated_at")

    def create(self, request: HttpRequest, form: forms.ModelForm) -> models.Model:
        raise NotImplementedError

    def update(self, request: HttpRequest, obj: models.Model, changes: dict[str, Any]) -> None:
        raise NotImplementedError

    def can_change(self, obj: models.Model) -> bool:
        return True

    def delete(self, request: HttpRequest, obj: models.Model) -> None:
        """The service that deletes one record; admins without one offer no delete."""
        raise NotImplementedError

    def can_delete(self, obj: models.Model) -> bool:
        if type(self).delete is ServiceAdmin.delete:
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


class ReadOnlyServiceAdmin(ServiceAdmin):
    """Records that services create but never change: they are viewed, not edited or reverted."""

    def can_change(self, obj: models.Model) -> bool:
        return False


class ServiceInline(admin.TabularInline):
    """An inline whose rows are written by services, called from `ServiceAdmin.save_formset`."""

    form = ServiceForm
    extra = 0

    def create(self, request: HttpRequest, obj: models.Model) -> None:
        raise NotImplementedError

    def update(self, request: HttpRequest, obj: models.Model, changed: list[str]) -> None:
        raise NotImplementedError

    def delete(self, request: HttpRequest, obj: models.Model) -> None:
        raise NotImplementedError


def is_draft(model: type[Invoice] | type[Proposal], pk: int | None) -> bool:
    """Whether the stored document is a draft now (a history version may show an older status)."""
    return model.objects.filter(pk=pk, status=model.Status.DRAFT).exists()


def apply_to_each(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    change: Callable[[Any], str],
    done: str,
) -> None:
    """Run one service per selected record, oldest first; report what succeeded and why the rest did not."""
    succeeded = []
    for record in queryset.order_by("created_at", "pk"):
        try:
            succeeded.append(change(record))
        except ValidationError as exc:
            model_admin.message_user(request, f"{record}: {' '.join(exc.messages)}", messages.ERROR)
    if succeeded:
        model_admin.message_user(request, f"{done}: {', '.join(succeeded)}.", messages.SUCCESS)


# --- Workspace, clients, contacts, projects, deliverables -------------------------------------


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


class DeliverableInline(ServiceInline):
    model = Deliverable
    fields = services.DELIVERABLE_FIELDS

    def create(self, request, obj):
        services.deliverable_create(
            project=obj.project, by=request.user, **{name: getattr(obj, name) for name in self.fields}
        )

    def update(self, request, obj, changed):
        services.deliverable_update(
            deliverable=obj, by=request.user, **{name: getattr(obj, name) for name in changed}
        )

    def delete(self, request, obj):
        services.deliverable_delete(deliverable=obj, by=request.user)


@admin.register(Project)
class ProjectAdmin(ServiceAdmin):
    form = ProjectForm
    create_fields = ("client",)
    edit_fields = services.PROJECT_FIELDS
    list_display = ("name", "client", "status", money_column("budget", "Budget"), "start_date", "due_date")
    list_select_related = ("client",)
    list_filter = ("status", ("currency", CurrencyInUseFilter))
    search_fields = ("name", "client__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("client",)
    inlines = (DeliverableInline,)

    def create(self, request, form):
        return services.project_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.project_update(project=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.project_delete(project=obj, by=request.user)


@admin.register(Deliverable)
class DeliverableAdmin(ServiceAdmin):
    create_fields = ("project",)
    edit_fields = services.DELIVERABLE_FIELDS
    list_display = ("title", "project", "client", "status", "due_date", "estimate_hours")
    list_select_related = ("project__client",)
    list_filter = ("status",)
    search_fields = ("title", "project__name", "project__client__name")
    date_hierarchy = "due_date"
    autocomplete_fields = ("project",)

    @admin.display(description="Client", ordering="project__client__name")
    def client(self, obj: Deliverable) -> Client:
        return obj.project.client

    def create(self, request, form):
        return services.deliverable_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.deliverable_update(deliverable=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.deliverable_delete(deliverable=obj, by=request.user)


# --- Pricing rules and action templates ------------------------------------------------------


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


# --- Proposals and invoices ------------------------------------------------------------------


class LineInline(ServiceInline):
    """Priced lines: amounts and the document's totals are computed by the line services, and only a
    draft's lines can change."""

    form = LineForm
    fields = (*LINE_FIELDS, "amount", "tax_amount")
    readonly_fields = ("amount", "tax_amount")

    def save_line(self, request: HttpRequest, line: models.Model) -> None:
        raise NotImplementedError

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


class ProposalLineInline(LineInline):
    model = ProposalLine

    def save_line(self, request, line):
        services.proposal_line_save(line=line, by=request.user)

    def delete(self, request, obj):
        services.proposal_line_delete(line=obj, by=request.user)


class InvoiceLineInline(LineInline):
    model = InvoiceLine

    def save_line(self, request, line):
        services.invoice_line_save(line=line, by=request.user)

    def delete(self, request, obj):
        services.invoice_line_delete(line=obj, by=request.user)


def proposal_transition_action(to: str, description: str) -> Callable[..., None]:
    @admin.action(description=description, permissions=["change"])
    def action(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        apply_to_each(
            model_admin,
            request,
            queryset,
            lambda proposal: str(services.proposal_transition(proposal=proposal, to=to, by=request.user)),
            description,
        )

    # The admin tells actions apart by their function's name.
    action.__name__ = f"proposal_to_{to}"
    return action


@admin.register(Proposal)
class ProposalAdmin(ServiceAdmin):
    form = ClientCurrencyForm
    create_fields = ("client",)
    edit_fields = ("title", "project", "currency", "valid_until", "cover_letter", "notes")
    info_fields = (
        "status",
        "subtotal",
        "tax_total",
        "total",
        "sent_at",
        "decided_at",
        "created_at",
        "updated_at",
    )
    list_display = (
        "title",
        "client",
        "project",
        "status",
        money_column("total", "Total"),
        "valid_until",
        "created_at",
    )
    list_select_related = ("client", "project")
    list_filter = ("status", ("currency", CurrencyInUseFilter))
    search_fields = ("title", "client__name", "project__name")
    date_hierarchy = "created_at"
    autocomplete_fields = ("client", "project")
    inlines = (ProposalLineInline,)
    actions = (
        proposal_transition_action(Proposal.Status.PENDING_APPROVAL, "Submit for approval"),
        proposal_transition_action(Proposal.Status.SENT, "Mark sent"),
        proposal_transition_action(Proposal.Status.ACCEPTED, "Mark accepted"),
        proposal_transition_action(Proposal.Status.DECLINED, "Mark declined"),
        proposal_transition_action(Proposal.Status.WITHDRAWN, "Withdraw"),
        proposal_transition_action(Proposal.Status.DRAFT, "Return to draft"),
    )

    def can_change(self, obj):
        # Only a draft's content can change; its status changes through the actions.
        return obj.is_editable

    def revert_disabled(self, request, obj=None):
        return super().revert_disabled(request, obj) or (obj is not None and not is_draft(Proposal, obj.pk))

    def create(self, request, form):
        return services.proposal_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.proposal_update(proposal=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.proposal_delete_draft(proposal=obj, by=request.user)


class VoidForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept on each invoice and in its history.",
    )


@admin.register(Invoice)
class InvoiceAdmin(ServiceAdmin):
    form = ClientCurrencyForm
    create_fields = ("client",)
    edit_fields = ("project", "proposal", "currency", "due_date", "notes")
    info_fields = (
        "number",
        "status",
        "issue_date",
        "subtotal",
        "tax_total",
        "total",
        "sent_at",
        "paid_at",
        "voided_at",
        "void_reason",
        "replaces",
        "replacement",
        "created_at",
        "updated_at",
    )
    list_display = (
        "display_number",
        "client",
        "project",
        "status",
        money_column("total", "Total"),
        "issue_date",
        "due_date",
        "paid_at",
    )
    list_select_related = ("client", "project")
    list_filter = ("status", ("currency", CurrencyInUseFilter), "number_year")
    search_fields = ("number", "client__name", "notes")
    date_hierarchy = "issue_date"
    autocomplete_fields = ("client", "project", "proposal")
    inlines = (InvoiceLineInline,)
    actions = ("issue", "mark_sent", "mark_paid", "mark_overdue", "void", "reissue")

    @admin.display(description="Number", ordering="number")
    def display_number(self, obj: Invoice) -> str:
        return str(obj)

    @admin.display(description="Re-issued as")
    def replacement(self, obj: Invoice) -> str | None:
        return admin_link(Invoice.objects.filter(replaces=obj).first())

    def can_change(self, obj):
        # An issued invoice is final (the database enforces it); it moves on only through the actions.
        return obj.is_editable

    def revert_disabled(self, request, obj=None):
        return super().revert_disabled(request, obj) or (obj is not None and not is_draft(Invoice, obj.pk))

    def create(self, request, form):
        return services.invoice_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.invoice_update(invoice=obj, by=request.user, **changes)

    def delete(self, request, obj):
        services.invoice_delete_draft(invoice=obj, by=request.user)

    @admin.action(description="Issue (assign number)", permissions=["change"])
    def issue(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset,
            lambda invoice: services.invoice_issue(invoice=invoice, by=request.user).number,
            "Issued",
        )

    @admin.action(description="Mark sent", permissions=["change"])
    def mark_sent(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset,
            lambda invoice: str(services.invoice_mark_sent(invoice=invoice, by=request.user)),
            "Marked sent",
        )

    @admin.action(description="Mark paid", permissions=["change"])
    def mark_paid(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset,
            lambda invoice: str(services.invoice_mark_paid(invoice=invoice, by=request.user)),
            "Marked paid",
        )

    @admin.action(description="Mark overdue", permissions=["change"])
    def mark_overdue(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset,
            lambda invoice: str(services.invoice_mark_overdue(invoice=invoice, by=request.user)),
            "Marked overdue",
        )

    @admin.action(description="Void…", permissions=["change"])
    def void(self, request, queryset):
        form = VoidForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            apply_to_each(
                self,
                request,
                queryset,
                lambda invoice: str(services.invoice_void(invoice=invoice, by=request.user, reason=reason)),
                "Voided",
            )
            return None
        return TemplateResponse(
            request,
            "admin/reason_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Void invoices",
                "explanation": "Voiding is final. A void invoice keeps its number and stays in the books; to "
                "correct it, re-issue it as a new draft afterwards.",
                "items": [
                    (
                        invoice.pk,
                        f"{invoice} — {invoice.client} — {invoice.total} {invoice.currency} "
                        f"({invoice.get_status_display()})",
                    )
                    for invoice in queryset
                ],
                "action_name": "void",
                "submit_label": f"Void {len(queryset)} invoice{pluralize(len(queryset))}",
                "opts": self.opts,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Re-issue void invoice as new draft", permissions=["change"])
    def reissue(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset,
            lambda invoice: f"{invoice} as {services.invoice_reissue(invoice=invoice, by=request.user)}",
            "Re-issued",
        )


class LineAdmin(ServiceAdmin):
    """One priced line on its own: its history, and a list of what was quoted or billed."""

    form = LineForm
    document_field: str
    document_model: type[Invoice] | type[Proposal]
    edit_fields = LINE_FIELDS
    info_fields = ("amount", "tax_amount")
    search_fields = ("description", "service_key")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(self.document_field)

    def document(self, line: models.Model) -> Invoice | Proposal:
        return getattr(line, self.document_field)

    def save_line(self, request: HttpRequest, line: models.Model) -> None:
        raise NotImplementedError

    def create(self, request, form):
        self.save_line(request, form.instance)
        return form.instance

    def update(self, request, obj, changes):
        self.save_line(request, obj)

    def can_change(self, obj):
        return self.document(obj).is_editable

    def can_delete(self, obj):
        return self.document(obj).is_editable

    def revert_disabled(self, request, obj=None):
        return super().revert_disabled(request, obj) or (
            obj is not None and not is_draft(self.document_model, getattr(obj, f"{self.document_field}_id"))
        )


@admin.register(ProposalLine)
class ProposalLineAdmin(LineAdmin):
    document_field = "proposal"
    document_model = Proposal
    create_fields = ("proposal",)
    list_display = (
        "description",
        "proposal",
        "quantity",
        "unit",
        money_column("unit_price", "Unit price", currency="proposal.currency"),
        "tax_rate",
        money_column("amount", "Amount", currency="proposal.currency"),
    )
    list_select_related = ("proposal",)
    list_filter = ("proposal__status",)
    search_fields = (*LineAdmin.search_fields, "proposal__title")
    autocomplete_fields = ("proposal",)

    def save_line(self, request, line):
        services.proposal_line_save(line=line, by=request.user)

    def delete_model(self, request, obj):
        services.proposal_line_delete(line=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for line in queryset:
            services.proposal_line_delete(line=line, by=request.user)


@admin.register(InvoiceLine)
class InvoiceLineAdmin(LineAdmin):
    document_field = "invoice"
    document_model = Invoice
    create_fields = ("invoice",)
    list_display = (
        "description",
        "invoice",
        "quantity",
        "unit",
        money_column("unit_price", "Unit price", currency="invoice.currency"),
        "tax_rate",
        money_column("amount", "Amount", currency="invoice.currency"),
    )
    list_select_related = ("invoice",)
    list_filter = ("invoice__status",)
    search_fields = (*LineAdmin.search_fields, "invoice__number")
    autocomplete_fields = ("invoice",)

    def save_line(self, request, line):
        services.invoice_line_save(line=line, by=request.user)

    def delete_model(self, request, obj):
        services.invoice_line_delete(line=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for line in queryset:
            services.invoice_line_delete(line=line, by=request.user)


@admin.register(InvoiceSequence)
class InvoiceSequenceAdmin(admin.ModelAdmin):
    """The numbering counters, for reference: only issuing an invoice moves them."""

    list_display = ("year", "last_number")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Contracts, conversations, messages, artifacts, decisions --------------------------------


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


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("sent_at", "direction", "from_email", "subject")
    readonly_fields = fields
    show_change_link = True
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(ServiceAdmin):
    edit_fields = ("subject", "client", "project", "channel", "last_message_at")
    list_display = ("__str__", "client", "project", "channel", "message_count", "last_message_at")
    list_select_related = ("client", "project")
    list_filter = ("channel",)
    search_fields = ("subject", "client__name", "project__name")
    date_hierarchy = "last_message_at"
    autocomplete_fields = ("client", "project")
    inlines = (MessageInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(message_count=count_of(Message, "conversation"))

    @admin.display(description="Messages", ordering="message_count")
    def message_count(self, obj: Conversation) -> int:
        return obj.message_count

    def create(self, request, form):
        return services.conversation_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.conversation_update(conversation=obj, by=request.user, **changes)


@admin.register(Message)
class MessageAdmin(ReadOnlyServiceAdmin):
    form = MessageForm
    create_fields = (
        "conversation",
        "direction",
        "channel",
        "message_id",
        "in_reply_to",
        "references",
        "from_email",
        "from_name",
        "to",
        "cc",
        "subject",
        "sent_at",
        "body_text",
        "body_html",
    )
    info_fields = ("attachments", "created_at")
    list_display = ("__str__", "conversation", "direction", "channel", "from_email", "sent_at")
    list_select_related = ("conversation",)
    list_filter = ("direction", "channel")
    search_fields = ("subject", "from_email", "from_name", "message_id")
    date_hierarchy = "sent_at"
    autocomplete_fields = ("conversation",)

    def create(self, request, form):
        message, created = services.message_record(by=request.user, **form.cleaned_data)
        if not created:
            raise ValidationError({"message_id": f"This Message-ID is already stored, as “{message}”."})
        return message


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyServiceAdmin):
    create_fields = ("file", "client", "project", "extracted_text")
    info_fields = ("filename", "mime_type", "size", "sha256", "created_at")
    list_display = ("filename", "mime_type", "file_size", "client", "project", "created_at")
    list_select_related = ("client", "project")
    list_filter = ("mime_type",)
    search_fields = ("filename", "sha256")
    date_hierarchy = "created_at"
    autocomplete_fields = ("client", "project")

    @admin.display(description="Size", ordering="size")
    def file_size(self, obj: Artifact) -> str:
        return filesizeformat(obj.size)

    def create(self, request, form):
        upload = form.cleaned_data["file"]
        artifact, created = services.artifact_store(
            by=request.user,
            content=upload.read(),
            filename=upload.name,
            mime_type=upload.content_type or "application/octet-stream",
            client=form.cleaned_data["client"],
            project=form.cleaned_data["project"],
            extracted_text=form.cleaned_data["extracted_text"],
        )
        if not created:
            raise ValidationError({"file": f"This file is already stored, as “{artifact}”."})
        return artifact


@admin.register(Decision)
class DecisionAdmin(ReadOnlyServiceAdmin):
    create_fields = ("title", "rationale", "client", "project", "decided_at")
    info_fields = ("decided_by", "subject_link", "created_at")
    list_display = ("title", "client", "project", "decided_by", "decided_at")
    list_select_related = ("client", "project", "decided_by")
    search_fields = ("title", "rationale")
    date_hierarchy = "decided_at"
    autocomplete_fields = ("client", "project")

    @admin.display(description="About")
    def subject_link(self, obj: Decision) -> str | None:
        return admin_link(obj.subject)

    def get_changeform_initial_data(self, request):
        return {"decided_at": timezone.now(), **super().get_changeform_initial_data(request)}

    def create(self, request, form):
        return services.decision_record(by=request.user, **form.cleaned_data)


# Registered last: the memory admin builds on ServiceAdmin above.
from core import admin_memory  # noqa: E402, F401
