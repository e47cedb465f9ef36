"""What an invoice or credit note document says, gathered once from the records, so the PDF and its
Factur-X XML are two renderings of the same content."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from core import clock
from core.invoicing.details import parties_snapshot
from core.invoicing.tax import REVERSE_CHARGE_NOTE, TaxGroup, tax_groups
from core.models import CreditNote, Invoice, InvoiceLine, Workspace

INVOICE = "380"  # UNTDID 1001: commercial invoice
CREDIT_NOTE = "381"


@dataclass(frozen=True)
class DocumentContent:
    type_code: str
    number: str
    issue_date: dt.date
    supply_date: dt.date
    due_date: dt.date | None
    currency: str
    seller: dict[str, Any]
    buyer: dict[str, Any]
    lines: list[InvoiceLine]
    groups: list[TaxGroup]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    notes: str = ""
    preceding_number: str = ""
    preceding_date: dt.date | None = None
    reason: str = ""
    is_draft: bool = False
    payment_terms: str = ""
    legal_notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return "Credit note" if self.type_code == CREDIT_NOTE else "Invoice"

    @property
    def reverse_charge(self) -> bool:
        return any(group.category == "AE" for group in self.groups)

    @property
    def amount_due(self) -> Decimal:
        return Decimal("0.00") if self.type_code == CREDIT_NOTE else self.total


def _legal_notes(groups: list[TaxGroup]) -> list[str]:
    notes: list[str] = []
    for group in groups:
        if group.exemption_reason and group.exemption_reason not in notes:
            notes.append(group.exemption_reason)
    return notes


def invoice_content(invoice: Invoice, *, workspace: Workspace | None = None) -> DocumentContent:
    """The content of an issued invoice (from its frozen parties), or of a draft as it would be issued
    today (from the current details; numbered "DRAFT")."""
    lines = list(invoice.lines.all())
    if invoice.status == Invoice.Status.DRAFT:
        workspace = workspace or Workspace.objects.get(pk=1)
        seller, buyer = parties_snapshot(workspace=workspace, client=invoice.client)
        issue_date = invoice.issue_date or timezone.localdate(clock.now())
        due_date = invoice.due_date or issue_date + dt.timedelta(days=workspace.payment_terms_days)
        number = "DRAFT"
    else:
        seller, buyer = invoice.seller, invoice.buyer
        issue_date, due_date, number = invoice.issue_date, invoice.due_date, invoice.number
    groups = tax_groups(lines=lines, seller=seller, buyer=buyer)
    days = (due_date - issue_date).days
    return DocumentContent(
        type_code=INVOICE,
        number=number,
        issue_date=issue_date,
        supply_date=invoice.supply_date or issue_date,
        due_date=due_date,
        currency=invoice.currency,
        seller=seller,
        buyer=buyer,
        lines=lines,
        groups=groups,
        subtotal=invoice.subtotal,
        tax_total=invoice.tax_total,
        total=invoice.total,
        notes=invoice.notes.replace(REVERSE_CHARGE_NOTE, "").strip(),
        is_draft=invoice.status == Invoice.Status.DRAFT,
        payment_terms=f"Payable within {days} days, by {due_date:%d %B %Y}."
        if days
        else "Payable on receipt.",
        legal_notes=_legal_notes(groups),
    )


def credit_note_content(note: CreditNote) -> DocumentContent:
    """The credit note cancelling `note.invoice`: its lines and amounts, referencing it."""
    invoice = note.invoice
    lines = list(invoice.lines.all())
    groups = tax_groups(lines=lines, seller=invoice.seller, buyer=invoice.buyer)
    return DocumentContent(
        type_code=CREDIT_NOTE,
        number=note.number,
        issue_date=note.issue_date,
        supply_date=invoice.supply_date or invoice.issue_date,
        due_date=None,
        currency=invoice.currency,
        seller=invoice.seller,
        buyer=invoice.buyer,
        lines=lines,
        groups=groups,
        subtotal=invoice.subtotal,
        tax_total=invoice.tax_total,
        total=invoice.total,
        notes=(
            f"Cancels invoice {invoice.number} of {invoice.issue_date:%d %B %Y} in full. "
            f"Reason: {note.reason}"
        ),
        preceding_number=invoice.number,
        preceding_date=invoice.issue_date,
        reason=note.reason,
        payment_terms="Nothing is payable on this credit note; any amount paid on the invoice is refunded.",
        legal_notes=_legal_notes(groups),
    )
