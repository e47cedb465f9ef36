"""`invoice.*`: changes to money records (a hard floor: always approved by the operator)."""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime
from pydantic import BaseModel, Field

from core import services as core_services
from core.models import Invoice
from ledger.commit.registry import MONEY, committer
from ledger.models import Action, Task


class InvoicePaidPayload(BaseModel):
    invoice_id: int
    paid_at: str = ""


@committer(
    "invoice.mark_paid",
    effect=MONEY,
    payload=InvoicePaidPayload,
    irreversible_note="A payment is a money record: correct it with a new, approved change.",
)
def commit_invoice_mark_paid(action: Action, task: Task) -> dict[str, Any]:
    payload = InvoicePaidPayload.model_validate(action.payload)
    invoice = Invoice.objects.get(pk=payload.invoice_id)
    paid_at = parse_datetime(payload.paid_at) if payload.paid_at else None
    invoice = core_services.invoice_mark_paid(invoice=invoice, by=None, paid_at=paid_at)
    return {"invoice": invoice.pk, "status": invoice.status}


class InvoiceVoidPayload(BaseModel):
    invoice_id: int
    reason: str = Field(min_length=1)


@committer(
    "invoice.void",
    effect=MONEY,
    payload=InvoiceVoidPayload,
    irreversible_note="A voided invoice stays void; reissue it instead.",
)
def commit_invoice_void(action: Action, task: Task) -> dict[str, Any]:
    payload = InvoiceVoidPayload.model_validate(action.payload)
    invoice = core_services.invoice_void(
        invoice=Invoice.objects.get(pk=payload.invoice_id), by=None, reason=payload.reason
    )
    return {"invoice": invoice.pk, "status": invoice.status}
