"""Committers of money in (ADR 0016): recording a payment with its allocations, and allocating a client's
credit to an invoice. Both are MONEY effects, so the hard floor makes them wait for the operator whatever
the policies say; both re-check everything at commit time, because invoices may have been paid, voided or
partly settled while the request waited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from pydantic import BaseModel, Field

from core import services as core_services
from core.models import BankEntry, Client, Invoice, Payment
from ledger.commit.registry import MONEY, committer, row_or_none
from ledger.models import Action, Task


class AllocationPayload(BaseModel):
    invoice_id: int
    number: str = ""
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)


class PaymentRecordPayload(BaseModel):
    client_id: int
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    currency: str = Field(min_length=3, max_length=3)
    received_on: dt.date
    method: str = Field(default="bank_transfer", pattern="^(bank_transfer|card|cash|other)$")
    reference: str = Field(default="", max_length=300)
    payer_name: str = Field(default="", max_length=200)
    payer_iban: str = Field(default="", max_length=34)
    source: str = Field(default="manual", pattern="^(manual|bank_statement|email)$")
    bank_entry_id: int | None = None
    allocations: list[AllocationPayload] = []
    credit_left: Decimal = Decimal("0.00")


@committer(
    "payment.record",
    effect=MONEY,
    irreversible_note="A payment is a money record: correct it with a new, approved change.",
)
def commit_payment_record(payload: PaymentRecordPayload, action: Action, task: Task) -> dict[str, Any]:
    client = Client.objects.get(pk=payload.client_id)
    invoices = Invoice.objects.in_bulk([item.invoice_id for item in payload.allocations])
    missing = [item.invoice_id for item in payload.allocations if item.invoice_id not in invoices]
    if missing:
        raise ValidationError({"allocations": f"Invoices {missing} no longer exist."})
    if sum((item.amount for item in payload.allocations), Decimal("0")) > payload.amount:
        raise ValidationError({"allocations": "The allocations add up to more than the payment."})
    payment = core_services.payment_record(
        client=client,
        amount=payload.amount,
        currency=payload.currency.upper(),
        received_on=payload.received_on,
        by=action.decided_by,
        allocations=[
            core_services.AllocationData(invoice=invoices[item.invoice_id], amount=item.amount)
            for item in payload.allocations
        ],
        bank_entry=row_or_none(BankEntry, payload.bank_entry_id),
        method=payload.method,
        reference=payload.reference,
        payer_name=payload.payer_name,
        payer_iban=payload.payer_iban,
        source=payload.source,
    )
    statuses = dict(Invoice.objects.filter(pk__in=invoices).values_list("number", "status"))
    return {"payment": payment.pk, "invoices": statuses}


class PaymentAllocatePayload(BaseModel):
    payment_id: int
    invoice_id: int
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)


@committer(
    "payment.allocate",
    effect=MONEY,
    irreversible_note="An allocation is a money record: correct it with a new, approved change.",
)
def commit_payment_allocate(payload: PaymentAllocatePayload, action: Action, task: Task) -> dict[str, Any]:
    allocation = core_services.payment_allocate(
        payment=Payment.objects.get(pk=payload.payment_id),
        invoice=Invoice.objects.get(pk=payload.invoice_id),
        amount=payload.amount,
        by=action.decided_by,
    )
    allocation.invoice.refresh_from_db()
    return {
        "allocation": allocation.pk,
        "invoice": allocation.invoice_id,
        "status": allocation.invoice.status,
    }
