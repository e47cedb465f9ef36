"""Proposals and their lines in the back office; a proposal's status moves through the actions."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from core import services
from core.admin.base import (
    ClientCurrencyForm,
    CurrencyInUseFilter,
    LineAdmin,
    LineInline,
    ServiceAdmin,
    apply_to_each,
    is_draft,
    money_column,
)
from core.models import Proposal, ProposalLine


class ProposalLineInline(LineInline):
    model = ProposalLine

    def save_line(self, request, line):
        services.proposal_line_save(line=line, by=request.user)

    def delete(self, request, obj):
        services.proposal_line_delete(line=obj, by=request.user)


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
