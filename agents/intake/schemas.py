"""The extraction contract: the intake's input, its fields and the evidence behind each field."""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, field_validator

Intent = Literal[
    "new_inquiry",
    "project_change",
    "acceptance",
    "decline",
    "payment_notice",
    "billing",
    "scheduling",
    "other",
]
# In the order of `Intent`: a tie between two intents goes to the earlier one.
INTENTS: tuple[str, ...] = typing.get_args(Intent)
# Intents that are not about work to be priced: no budget, no services, no delivery date.
NO_WORK_INTENTS = frozenset({"acceptance", "decline", "payment_notice", "billing", "scheduling", "other"})
CONTRACT_FIELDS = (
    "intent",
    "sender_email",
    "sender_name",
    "company",
    "budget",
    "deadline",
    "services",
    "invoice_numbers",
    "payment",
)


class ServiceInfo(BaseModel):
    """One service of the workspace's catalogue (a pricing rule)."""

    key: str
    name: str
    description: str = ""
    currency: str = ""  # the rule's price currency: the budget's currency when the mail names none


class Budget(BaseModel):
    amount: str = Field(pattern=r"^\d+\.\d{2}$")  # a decimal string, two places: "5000.00"
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class Payment(BaseModel):
    """A payment the sender says was made."""

    amount: str = Field(pattern=r"^\d+\.\d{2}$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    paid_on: dt.date


class Evidence(BaseModel):
    """Where an inferred value was read: shown to the operator next to the value."""

    source: str = ""  # the snippet
    span: tuple[int, int] | None = None  # [start, end) of `source` in the text named by `origin`
    origin: Literal["new_text", "subject", "headers", "quoted_text"] = "new_text"
    confidence: float = Field(default=0.5, ge=0, le=1)


class IntakeFields(BaseModel):
    intent: Intent
    sender_email: str
    sender_name: str | None = None
    company: str | None = None
    budget: Budget | None = None
    deadline: dt.date | None = None
    services: list[str] = []
    # The invoices the mail refers to: ours in the workspace's spelling (NW-2026-0042), others as written.
    invoice_numbers: list[str] = []
    payment: Payment | None = None
    # Not part of the printed contract: for each inferred field, where it was read and how sure.
    evidence: dict[str, Evidence] = {}

    def contract(self) -> dict[str, Any]:
        """The contract's fields in the contract's order, as JSON data (no evidence)."""
        data = self.model_dump(mode="json")
        return {name: data[name] for name in CONTRACT_FIELDS}


class ParsedParts(Protocol):
    """What the intake reads of a parsed mail (the mail parser gives these fields)."""

    from_email: str
    from_name: str
    subject: str
    date: dt.datetime | None
    text: str
    new_text: str
    quoted_text: str
    is_auto_reply: bool
    is_bounce: bool
    headers: dict[str, str]


class IntakeInput(BaseModel):
    """What the intake reads of one mail (the reader's `MailRead` fits: extra fields are ignored)."""

    from_email: str
    from_name: str = ""
    subject: str = ""
    date: str | None = None  # ISO 8601 from the Date header, with its offset
    new_text: str = ""
    quoted_text: str = ""
    is_auto_reply: bool = False
    is_bounce: bool = False
    # A few raw headers of the mail: List-Id, List-Unsubscribe, Precedence… mark bulk mail.
    headers: dict[str, str] = {}
    services: list[ServiceInfo] = []
    # The workspace's invoice prefix: numbers in its format are ours ("NW" reads NW20260042 as NW-2026-0042).
    invoice_prefix: str = ""

    @field_validator("headers", mode="before")
    @classmethod
    def _no_headers(cls, value: Any) -> Any:
        return value or {}
