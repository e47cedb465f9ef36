"""The back office of email in: IMAP mailboxes (edited here, with history) and every inbound mail.

Inbound mail is written only by `connectors.services`, so it is read-only here. The review queue is the
list filtered to "In review": each row says why, the raw bytes can be downloaded (staff only, through the
admin), and "Retry import" runs the importer on the stored bytes again (after raising a limit, say).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from connectors import imap, services
from connectors.models import InboundMail, Mailbox
from connectors.statements import StatementError, statement_import
from connectors.statements.importer import bank_entry_propose
from core import selectors as core_selectors
from core.admin.base import AdminPage, ExtraPages
from core.models import BankEntry, BankStatement
from core.services.payments import ENTRY_FIELDS
from ledger.admin.base import ReadOnlyAdmin, ReadOnlyInline, text_block

_PREVIEW_CHARS = 4000


class MailboxForm(forms.ModelForm):
    # Write-only: the stored password is never rendered into the page, not even as dots.
    password = forms.CharField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        required=False,
        strip=False,
        help_text="Stored for logging in to the server and never shown again. Leave empty to keep it.",
    )

    class Meta:
        model = Mailbox
        fields = ("name", "host", "port", "use_ssl", "username", "password", "folder", "enabled")

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password") or ""
        if not password and self.instance.pk:
            return self.instance.password
        if not password:
            raise ValidationError("A new mailbox needs the account's password.")
        return password

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if name == services.ENV_MAILBOX_NAME and not (self.instance.pk and self.instance.name == name):
            raise ValidationError(
                f'"{name}" is the mailbox made from the AIOS_IMAP_* settings; choose another name.'
            )
        return name


@admin.register(Mailbox)
class MailboxAdmin(SimpleHistoryAdmin):
    form = MailboxForm
    list_display = ("name", "username", "host", "port", "folder", "enabled", "last_polled_at", "status")
    list_filter = ("enabled",)
    search_fields = ("name", "host", "username")
    readonly_fields = ("last_uidvalidity", "last_uid", "last_polled_at", "last_error")
    fieldsets = (
        (None, {"fields": ("name", "host", "port", "use_ssl", "username", "password", "folder", "enabled")}),
        ("Polling (every minute)", {"fields": readonly_fields}),
    )
    actions = ("poll_now",)

    @admin.display(description="Last poll")
    def status(self, mailbox: Mailbox) -> str:
        if mailbox.last_error:
            return format_html('<span style="color: var(--error-fg)">{}</span>', mailbox.last_error[:120])
        return "OK" if mailbox.last_polled_at else "not polled yet"

    @admin.action(description="Poll now")
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        for mailbox in queryset.order_by("name"):
            result = imap.mailbox_poll(mailbox=mailbox)
            self.message_user(request, str(result), messages.SUCCESS if result.ok else messages.ERROR)


@admin.register(InboundMail)
class InboundMailAdmin(ExtraPages, ReadOnlyAdmin):
    """Read-only rows; whoever may change them in Django's terms may ask for a new import."""

    list_display = ("received_at", "status", "path", "message_id_header", "size_display", "reason_short")
    list_filter = ("status", "path", "mailbox")
    search_fields = ("message_id_header", "source", "sha256", "reason")
    date_hierarchy = "received_at"
    list_select_related = ("mailbox",)
    fields = (
        "status",
        "reason",
        "problems",
        "path",
        "mailbox",
        "source",
        "message_id_header",
        "message_link",
        "size_display",
        "sha256",
        "raw_download",
        "raw_preview",
        "received_at",
        "updated_at",
    )
    actions = ("retry_import",)
    extra_pages = (AdminPage("<int:pk>/raw/", "raw_view", "raw"),)

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMail]:
        # The list never loads the raw bytes (up to the mail limit each); the detail page reads them.
        queryset = super().get_queryset(request)
        match = request.resolver_match
        return (
            queryset if match and match.url_name == "connectors_inboundmail_change" else queryset.defer("raw")
        )

    def raw_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The mail exactly as received, as a download (never rendered: it is untrusted content)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        inbound = get_object_or_404(InboundMail, pk=pk)
        response = HttpResponse(bytes(inbound.raw), content_type="message/rfc822")
        response["Content-Disposition"] = f'attachment; filename="inbound-{inbound.pk}.eml"'
        return response

    @admin.display(description="Size", ordering="size")
    def size_display(self, inbound: InboundMail) -> str:
        return filesizeformat(inbound.size)

    @admin.display(description="Reason")
    def reason_short(self, inbound: InboundMail) -> str:
        return inbound.reason[:140]

    @admin.display(description="Message")
    def message_link(self, inbound: InboundMail) -> str:
        if inbound.message_id is None:
            return "—"
        url = reverse("admin:core_message_change", args=[inbound.message_id])
        return format_html('<a href="{}">{}</a>', url, inbound.message)

    @admin.display(description="Raw mail")
    def raw_download(self, inbound: InboundMail) -> str:
        if not inbound.raw:
            return "Not kept: the same bytes are stored with the first copy of this mail."
        url = reverse("admin:connectors_inboundmail_raw", args=[inbound.pk])
        return format_html(
            '<a href="{}">Download inbound-{}.eml</a> ({})', url, inbound.pk, filesizeformat(inbound.size)
        )

    @admin.display(description="Raw preview")
    def raw_preview(self, inbound: InboundMail) -> str:
        text = bytes(inbound.raw[:_PREVIEW_CHARS]).decode("utf-8", errors="replace")
        more = "\n…" if inbound.size > _PREVIEW_CHARS else ""
        return text_block(text + more)

    @admin.action(description="Retry import", permissions=["operate"])
    def retry_import(self, request: HttpRequest, queryset: QuerySet[InboundMail]) -> None:
        for inbound in queryset.order_by("received_at", "pk"):
            try:
                result = services.inbound_retry(inbound=inbound)
            except ValidationError as exc:
                self.message_user(request, f"#{inbound.pk}: {' '.join(exc.messages)}", messages.ERROR)
                continue
            if result.status == InboundMail.Status.REVIEW:
                self.message_user(
                    request, f"#{result.pk}: still in review: {result.reason}", messages.WARNING
                )
            else:
                self.message_user(
                    request, f"#{result.pk}: {result.get_status_display().lower()}.", messages.SUCCESS
                )


# --- Bank statements (ADR 0016) ------------------------------------------------------------------------


class StatementUploadForm(forms.Form):
    file = forms.FileField(help_text="CAMT.053 (XML), MT940, OFX or CSV, as your bank exports it.")
    dry_run = forms.BooleanField(required=False, label="Only show the matches; import nothing")


class BankEntryInline(ReadOnlyInline):
    model = BankEntry
    fields = ("booked_on", "amount", "currency", "counterparty", "remittance", "match_kind", "status")
    show_change_link = True


@admin.register(BankStatement)
class BankStatementAdmin(ReadOnlyAdmin):
    """Imported statements. "Add" is the upload: the file goes through the same importer as
    `manage.py import_statement`, and each matched credit proposes a payment for approval."""

    list_display = ("created_at", "filename", "format", "account", "entries_count", "duplicates_count")
    list_filter = ("format",)
    search_fields = ("filename", "account", "statement_ref", "sha256")
    fields = (
        "filename",
        "format",
        "account",
        "statement_ref",
        "entries_count",
        "duplicates_count",
        "sha256",
        "artifact",
        "created_at",
    )
    inlines = (BankEntryInline,)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("core.add_bankstatement")

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context=None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        rows, error = None, ""
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            dry_run = form.cleaned_data["dry_run"]
            try:
                report = statement_import(
                    content=upload.read(), filename=upload.name, dry_run=dry_run, by=request.user
                )
            except StatementError as exc:
                error = f"{upload.name}: {exc}" + (
                    "" if dry_run else " The file is kept as an artifact for review; nothing was imported."
                )
            else:
                if not dry_run:
                    if report.created:
                        self.message_user(
                            request,
                            f"{upload.name}: {report.new_entries} new entries, {report.proposed} payments "
                            "proposed — they wait on the approvals page.",
                            messages.SUCCESS,
                        )
                    else:
                        self.message_user(request, f"{upload.name} was imported before; nothing new.")
                    return redirect("admin:core_bankstatement_change", report.statement_id)
                rows = report.credits_json()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import a bank statement",
            "form": form,
            "rows": rows,
            "error": error,
        }
        return TemplateResponse(request, "admin/core/bankstatement_upload.html", context)


class ProposeForm(forms.Form):
    invoices = forms.CharField(
        help_text="The invoice numbers this credit pays, separated by commas (e.g. NW-2026-0009).",
        max_length=500,
    )


class WaitingForOperatorFilter(admin.SimpleListFilter):
    """The bank entries' to-do list: credits no payment was proposed for (ambiguous or unmatched). The
    status filter's "Waiting for the operator" also lists debits, which are never matched."""

    title = "waiting for the operator"
    parameter_name = "waiting"

    def lookups(self, request: HttpRequest, model_admin) -> tuple[tuple[str, str], ...]:
        return (("yes", "Credits waiting for the operator"), ("no", "Everything else"))

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        waiting = core_selectors.bank_entries_waiting().values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=waiting)
        if self.value() == "no":
            return queryset.exclude(pk__in=waiting)
        return queryset


# What the bank's line says, in the order the importer stores it; the importer's own bookkeeping
# (statement, position, fingerprint) and its verdict (match, status) are not the bank's.
_BANK_SAYS = tuple(
    name
    for name in ENTRY_FIELDS
    if name not in ("statement_id", "position", "fingerprint", "match_kind", "match", "status")
)


@admin.register(BankEntry)
class BankEntryAdmin(ExtraPages, ReadOnlyAdmin):
    """Every booked line. Credits that wait for the operator (ambiguous or unmatched) are the list filtered
    to "Waiting for the operator"; on an entry's page the operator names the invoices it pays, which
    proposes the payment for approval."""

    list_display = (
        "booked_on",
        "amount",
        "currency",
        "counterparty",
        "remittance_short",
        "match_kind",
        "status",
    )
    list_filter = (WaitingForOperatorFilter, "status", "match_kind", "currency")
    search_fields = ("counterparty", "counterparty_iban", "remittance", "entry_ref")
    date_hierarchy = "booked_on"
    fields = ("statement", *_BANK_SAYS, "match_kind", "candidates", "status", "payment_link")
    extra_pages = (AdminPage("<int:pk>/propose/", "propose_view", "propose"),)

    @admin.display(description="Remittance")
    def remittance_short(self, entry: BankEntry) -> str:
        return entry.remittance[:80]

    @admin.display(description="Invoices and why")
    def candidates(self, entry: BankEntry) -> str:
        match = entry.match or {}
        invoices = ", ".join(match.get("invoices", [])) or "none"
        return f"{invoices} — {'; '.join(match.get('reasons', []))}"

    @admin.display(description="Payment")
    def payment_link(self, entry: BankEntry) -> str:
        payment = getattr(entry, "payment", None)
        if payment is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:core_payment_change", args=[payment.pk]), payment
        )

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        entry = BankEntry.objects.filter(pk=object_id).first()
        extra = {**(extra_context or {})}
        if entry is not None and entry.amount > 0 and entry.status == BankEntry.Status.OPEN:
            extra["propose_url"] = reverse("admin:core_bankentry_propose", args=[entry.pk])
        return super().change_view(request, object_id, form_url, extra)

    def propose_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_operate_permission(request):
            raise PermissionDenied
        entry = get_object_or_404(BankEntry, pk=pk)
        # The phone's money page links here with a candidate filled in; the operator still confirms it.
        form = ProposeForm(request.POST or None, initial={"invoices": request.GET.get("invoices", "")[:500]})
        if request.method == "POST" and form.is_valid():
            numbers = form.cleaned_data["invoices"].replace(";", ",").split(",")
            try:
                match = bank_entry_propose(entry=entry, numbers=numbers, by=request.user)
            except ValidationError as exc:
                form.add_error("invoices", " ".join(exc.messages))
            else:
                self.message_user(
                    request,
                    f"Payment proposed ({match.kind}: {', '.join(match.numbers)}); "
                    "it waits on the approvals page.",
                    messages.SUCCESS,
                )
                return redirect("admin:core_bankentry_change", entry.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Propose a payment for {entry}",
            "form": form,
            "entry": entry,
        }
        return TemplateResponse(request, "admin/core/bankentry_propose.html", context)
