"""Money documents in the back office: proposals and invoices, their lines and the invoice numbering;
an issued invoice's or a proposal's status moves through the actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html

from core import clock, ports, services
from core.admin.actions import reason_action, service_action
from core.admin.base import (
    AdminPage,
    ClientRecordAdmin,
    ExtraPages,
    ReadOnlyPermissions,
    RecordServices,
    admin_link,
    money_column,
)
from core.admin.lines import LineAdmin, LineInline, is_draft
from core.invoicing import documents
from core.models import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceReminder,
    InvoiceSequence,
    Proposal,
    ProposalLine,
)


class ProposalLineInline(LineInline):
    model = ProposalLine


def proposal_transition_action(to: str, description: str) -> Callable[..., None]:
    return service_action(
        lambda request, proposal: str(
            services.proposal_transition(proposal=proposal, to=to, by=request.user)
        ),
        description=description,
        done=description,
        name=f"proposal_to_{to}",
    )


def invoice_status_action(service: Callable[..., Any], description: str, done: str) -> Callable[..., None]:
    """Marking an invoice sent, paid or overdue, or resuming its reminders: one service each, taking only the
    invoice and the operator, and the invoice named in the message."""
    return service_action(
        lambda request, invoice: str(service(invoice=invoice, by=request.user)),
        description=description,
        done=done,
    )


class DocumentAdmin(ClientRecordAdmin):
    """A proposal or an invoice, of which only a draft's content can change. An issued invoice is final
    (the database enforces it); a document's status moves on only through the actions."""

    # MoneyDocument's columns kept equal to the lines: shown, never edited.
    totals = ("subtotal", "tax_total", "total")

    @cached_property
    def record_services(self) -> RecordServices:
        # The services named after the document; only a draft may be deleted (`…_delete_draft`).
        return RecordServices.named(self.opts.model_name, delete="delete_draft")

    def can_change(self, obj):
        return obj.is_editable

    def revert_disabled(self, request, obj=None):
        return super().revert_disabled(request, obj) or (obj is not None and not is_draft(self.model, obj.pk))


@admin.register(Proposal)
class ProposalAdmin(DocumentAdmin):
    edit_fields = services.PROPOSAL_FIELDS
    info_fields = (
        "status",
        *DocumentAdmin.totals,
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
    search_fields = ("title", "client__name", "project__name")
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


@admin.register(ProposalLine)
class ProposalLineAdmin(LineAdmin):
    document_field = "proposal"
    document_model = Proposal
    document_search = "title"


class InvoiceLineInline(LineInline):
    model = InvoiceLine


class VoidForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept on each invoice and in its history.",
    )


class InvoiceReminderInline(ReadOnlyPermissions, admin.TabularInline):
    """Each reminder level the invoice has had: drafted, sent or cancelled (and why)."""

    model = InvoiceReminder
    extra = 0
    fields = ("level", "days_overdue", "status", "created_at", "sent_at", "note")
    verbose_name_plural = "Payment reminders"


def _send_requested(request: HttpRequest, invoice: Invoice) -> str:
    task = ports.invoice_send_request(invoice=invoice, requested_by=request.user)
    return f"{invoice} (task {str(task.pk)[:8]})"


@admin.register(Invoice)
class InvoiceAdmin(ExtraPages, DocumentAdmin):
    edit_fields = services.INVOICE_DRAFT_FIELDS
    info_fields = (
        "number",
        "status",
        "document_download",
        "issue_date",
        *DocumentAdmin.totals,
        "sent_at",
        "paid_at",
        "voided_at",
        "void_reason",
        "overdue_since",
        "reminders_paused",
        "reminders_pause_reason",
        "replaces",
        "replacement",
        "credit_note_link",
        "created_at",
        "updated_at",
        "timeline",
    )
    list_display = (
        "display_number",
        "client",
        "project",
        "status",
        money_column("total", "Total"),
        "issue_date",
        "due_date",
        "days_overdue",
        "reminders_paused",
        "paid_at",
    )
    list_select_related = ("client", "project")
    list_filter = (*ClientRecordAdmin.list_filter, "number_year")
    search_fields = ("number", "client__name", "notes")
    date_hierarchy = "issue_date"
    autocomplete_fields = ("client", "project", "proposal")
    inlines = (InvoiceLineInline, InvoiceReminderInline)
    actions = (
        "issue",
        "send_by_email",
        "mark_sent",
        "mark_paid",
        "mark_overdue",
        "void",
        "reissue",
        "reminders_pause",
        "reminders_resume",
    )
    extra_pages = (AdminPage("<path:object_id>/pdf/", "pdf_view", "pdf"),)

    @admin.display(description="Days overdue")
    def days_overdue(self, obj: Invoice) -> int | None:
        if obj.status != Invoice.Status.OVERDUE or obj.due_date is None:
            return None
        return (timezone.localdate(clock.now()) - obj.due_date).days

    @admin.display(description="Number", ordering="number")
    def display_number(self, obj: Invoice) -> str:
        return str(obj)

    def pdf_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The issued invoice's stored PDF (rendered the first time), or a draft's preview."""
        self.require_valid_ids(object_id)
        invoice = get_object_or_404(Invoice, pk=object_id)
        if not self.has_view_permission(request, invoice):
            raise PermissionDenied
        try:
            pdf, filename = documents.invoice_pdf(invoice=invoice, by=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), level="error")
            return redirect(reverse("admin:core_invoice_change", args=[invoice.pk]))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response

    @admin.display(description="Document")
    def document_download(self, obj: Invoice) -> str:
        label = "Preview PDF (draft)" if obj.is_editable else "Download PDF (PDF/A-3 with Factur-X XML)"
        return format_html('<a href="{}">{}</a>', reverse("admin:core_invoice_pdf", args=[obj.pk]), label)

    @admin.display(description="Credit note")
    def credit_note_link(self, obj: Invoice) -> str | None:
        return admin_link(CreditNote.objects.filter(invoice=obj).first())

    @admin.display(description="Timeline")
    def timeline(self, obj: Invoice) -> str:
        """Issued, sent, reminded, paid … oldest first, each with who did it and the ledger task; built
        by the ledger (it reads tasks and actions) through core's port."""
        events = ports.invoice_timeline(invoice_id=obj.pk)
        return render_to_string("admin/core/invoice_timeline.html", {"events": events})

    @admin.display(description="Re-issued as")
    def replacement(self, obj: Invoice) -> str | None:
        return admin_link(Invoice.objects.filter(replaces=obj).first())

    issue = service_action(
        lambda request, invoice: (
            documents.invoice_issue_with_document(invoice=invoice, by=request.user).number
        ),
        description="Issue (assign number)",
        done="Issued",
    )
    # Through the ledger (a port: core does not import it): the email is written, then waits for approval.
    send_by_email = service_action(
        lambda request, invoice: _send_requested(request, invoice),
        description="Send by email with the PDF (issues a draft; waits for your approval)",
        done="Sending asked for; approve it in the approval queue",
    )
    mark_sent = invoice_status_action(
        services.invoice_mark_sent, "Mark sent (went out another way)", "Marked sent"
    )
    mark_paid = invoice_status_action(services.invoice_mark_paid, "Mark paid", "Marked paid")
    mark_overdue = invoice_status_action(services.invoice_mark_overdue, "Mark overdue", "Marked overdue")

    void = reason_action(
        lambda request, invoice, reason: str(
            services.invoice_void(invoice=invoice, by=request.user, reason=reason)
        ),
        name="void",
        description="Void…",
        permissions=("change",),
        form=VoidForm,
        title="Void invoices",
        explanation="Voiding is final. A void invoice keeps its number and stays in the books; to "
        "correct it, re-issue it as a new draft afterwards.",
        item=lambda invoice: (
            f"{invoice} — {invoice.client} — {invoice.total} {invoice.currency} "
            f"({invoice.get_status_display()})"
        ),
        noun="invoice",
        verb="Void",
        done="Voided",
    )

    reissue = service_action(
        lambda request, invoice: f"{invoice} as {services.invoice_reissue(invoice=invoice, by=request.user)}",
        description="Re-issue void invoice as new draft",
        done="Re-issued",
    )
    reminders_pause = service_action(
        lambda request, invoice: str(
            services.invoice_reminders_pause(invoice=invoice, by=request.user, reason="held by the operator")
        ),
        description="Hold payment reminders",
        done="Reminders held",
    )
    reminders_resume = invoice_status_action(
        services.invoice_reminders_resume, "Resume payment reminders", "Reminders resumed"
    )


@admin.register(InvoiceLine)
class InvoiceLineAdmin(LineAdmin):
    document_field = "invoice"
    document_model = Invoice
    document_search = "number"


@admin.register(InvoiceSequence)
class InvoiceSequenceAdmin(ReadOnlyPermissions, admin.ModelAdmin):
    """The numbering counters, for reference: only issuing an invoice moves them."""

    list_display = ("year", "last_number")


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyPermissions, ExtraPages, admin.ModelAdmin):
    """Credit notes are made by voiding an invoice; here they are read and downloaded."""

    list_display = ("number", "invoice", "issue_date", "reason")
    list_select_related = ("invoice",)
    search_fields = ("number", "invoice__number", "reason")
    fields = ("number", "invoice", "issue_date", "reason", "document_download")
    extra_pages = (AdminPage("<path:object_id>/pdf/", "pdf_view", "pdf"),)

    def pdf_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not object_id.isdigit():
            raise Http404
        note = get_object_or_404(CreditNote, pk=object_id)
        pdf, filename = documents.credit_note_pdf(note=note, by=request.user)
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{filename}"'
        return response

    @admin.display(description="Document")
    def document_download(self, obj: CreditNote) -> str:
        url = reverse("admin:core_creditnote_pdf", args=[obj.pk])
        return format_html('<a href="{}">Download PDF (PDF/A-3 with Factur-X XML)</a>', url)
