"""Shapes of the money API (ledger/money/api.py). Money is a decimal string ("1400.00"), as everywhere."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum

from ninja import Field, Schema

from core.models import BankEntry, Payment
from core.schemas import RecordId, api_enum
from ledger.money.selectors import BankEntryState, bank_entry_candidates
from ledger.money.timeline import KINDS

TimelineEventKind = StrEnum("TimelineEventKind", [(kind.upper(), kind) for kind in KINDS], module=__name__)
PaymentSource = api_enum(Payment.Source, name="PaymentSource", module=__name__)
PaymentMethod = api_enum(Payment.Method, name="PaymentMethod", module=__name__)
BankEntryMatch = api_enum(BankEntry.Match, name="BankEntryMatch", module=__name__)
BankEntryStatus = api_enum(BankEntry.Status, name="BankEntryStatus", module=__name__)


class TimelineEventOut(Schema):
    at: dt.datetime
    kind: TimelineEventKind
    title: str
    detail: str
    by: str = Field(description='The operator, "task 1a2b3c4d (workflow)", "receivables sweep" or "system".')
    task_id: uuid.UUID | None = Field(description="The ledger task that did it: GET /api/v1/tasks/{id}.")
    task_workflow: str
    payment_id: int | None
    action_id: int | None
    amount: Decimal | None
    currency: str


class PaymentFilters(Schema):
    client_id: RecordId | None = None
    source: PaymentSource | None = None


class AllocationOut(Schema):
    invoice_id: int
    invoice_number: str | None
    amount: Decimal
    created_at: dt.datetime

    @staticmethod
    def resolve_invoice_number(allocation) -> str | None:
        return allocation.invoice.number


class PaymentOut(Schema):
    id: int
    client_id: int
    client_name: str
    amount: Decimal
    currency: str
    received_on: dt.date
    method: PaymentMethod
    source: PaymentSource
    reference: str
    payer_name: str
    payer_iban: str
    bank_entry_id: int | None
    allocated: Decimal
    unallocated: Decimal = Field(description="The client's credit from this payment.")
    allocations: list[AllocationOut]
    created_at: dt.datetime

    @staticmethod
    def resolve_client_name(payment) -> str:
        return payment.client.name

    @staticmethod
    def resolve_allocations(payment) -> list:
        return list(payment.allocations.all())


class BankEntryFilters(Schema):
    state: BankEntryState = Field(
        BankEntryState.UNMATCHED,
        description="unmatched: credits waiting for the operator; matched: payment proposed or recorded.",
    )


class CandidateOut(Schema):
    number: str
    invoice_id: int | None
    amount: Decimal | None = Field(description="What the match would allocate to it, when it allocated.")


class BankEntryOut(Schema):
    id: int
    statement_id: int
    entry_ref: str
    booked_on: dt.date
    amount: Decimal = Field(description="Signed: credits positive, debits negative.")
    currency: str
    counterparty: str
    counterparty_iban: str
    remittance: str
    match_kind: BankEntryMatch
    status: BankEntryStatus
    candidates: list[CandidateOut]
    reasons: list[str]
    payment_id: int | None

    @staticmethod
    def resolve_candidates(entry) -> list[dict]:
        return bank_entry_candidates(entry)

    @staticmethod
    def resolve_reasons(entry) -> list[str]:
        match = entry.match if isinstance(entry.match, dict) else {}
        return [str(reason) for reason in match.get("reasons") or []]

    @staticmethod
    def resolve_payment_id(entry) -> int | None:
        payment = getattr(entry, "payment", None)
        return payment.pk if payment is not None else None
