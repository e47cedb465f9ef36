"""Money in, in the back office: payments with their allocations, the payer accounts known per client,
and the CSV mappings saved per bank. Payments are written only by approved ledger actions (ADR 0016), so
they are read-only here; bank statements and their entries are in the connectors' admin (the upload
runs the statement importer)."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import admin
from django.db.models import DecimalField, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from core import selectors
from core.admin.base import ReadOnlyPermissions, admin_link, money_column
from core.models import BankCsvMapping, PayerAccount, Payment, PaymentAllocation

MONEY_FIELD = DecimalField(max_digits=14, decimal_places=2)


class PaymentAllocationInline(ReadOnlyPermissions, admin.TabularInline):
    model = PaymentAllocation
    fields = ("invoice", "amount", "created_at")
    extra = 0


class AllocationFilter(admin.SimpleListFilter):
    """Payments by how much of them settles invoices: the ones with money left over are the client's
    credit, waiting for the operator to allocate it (or refund it)."""

    title = "allocated to invoices"
    parameter_name = "allocated"

    def lookups(self, request: HttpRequest, model_admin) -> tuple[tuple[str, str], ...]:
        return (
            ("credit", "Waiting for the operator: credit left"),
            ("none", "Not allocated at all"),
            ("full", "Fully allocated"),
        )

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() not in ("credit", "none", "full"):
            return queryset
        allocated = Coalesce(Sum("allocations__amount"), Value(Decimal("0.00")), output_field=MONEY_FIELD)
        queryset = queryset.annotate(allocated_total=allocated)
        if self.value() == "credit":
            return queryset.filter(allocated_total__lt=F("amount"))
        if self.value() == "none":
            return queryset.filter(allocated_total=0)
        return queryset.filter(allocated_total__gte=F("amount"))


@admin.register(Payment)
class PaymentAdmin(ReadOnlyPermissions, SimpleHistoryAdmin):
    list_display = (
        "received_on",
        "client",
        money_column("amount", "Amount"),
        "source",
        "method",
        "payer_name",
        "reference",
    )
    list_filter = (AllocationFilter, "source", "method", "currency")
    list_select_related = ("client",)
    search_fields = ("reference", "payer_name", "payer_iban", "client__name")
    date_hierarchy = "received_on"
    fields = (
        "client",
        "amount",
        "currency",
        "received_on",
        "method",
        "source",
        "reference",
        "payer_name",
        "payer_iban",
        "bank_entry",
        "client_credit",
        "notes",
        "created_at",
    )
    inlines = (PaymentAllocationInline,)

    @admin.display(description="Client's credit now")
    def client_credit(self, payment: Payment) -> str:
        credit = selectors.client_credit(client_id=payment.client_id)
        return ", ".join(f"{amount:,.2f}\u00a0{currency}" for currency, amount in credit.items()) or "none"


@admin.register(PaymentAllocation)
class PaymentAllocationAdmin(ReadOnlyPermissions, SimpleHistoryAdmin):
    list_display = ("payment", "invoice_link", "amount", "created_at")
    list_select_related = ("payment", "invoice")
    search_fields = ("invoice__number",)
    fields = ("payment", "invoice", "amount", "created_at")

    @admin.display(description="Invoice")
    def invoice_link(self, allocation: PaymentAllocation) -> str | None:
        return admin_link(allocation.invoice)


@admin.register(PayerAccount)
class PayerAccountAdmin(ReadOnlyPermissions, SimpleHistoryAdmin):
    """Learned from imported invoices and approved payments. A wrong one can be removed, so transfers
    from it are no longer taken as the client's."""

    list_display = ("iban", "name", "client", "created_at")
    list_select_related = ("client",)
    search_fields = ("iban", "name", "client__name")
    fields = ("client", "iban", "name", "created_at")

    def has_delete_permission(self, request: HttpRequest, obj: PayerAccount | None = None) -> bool:
        return request.user.has_perm("core.delete_payeraccount")


@admin.register(BankCsvMapping)
class BankCsvMappingAdmin(admin.ModelAdmin):
    """Which CSV columns mean what, for a bank whose export headers are not recognised by themselves."""

    list_display = ("name", "date_column", "amount_column", "credit_column", "date_format", "decimal_comma")
    search_fields = ("name",)
