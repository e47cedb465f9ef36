"""Shapes of the JSON API's input and output (see core/api.py).

Input schemas check types and sizes only; the rules (valid e-mail and currency, non-negative money,
editable states) live in `core.services`, whose errors the API reports field by field. Decimals go
out as strings ("1950.00"): ninja's JSON encoder writes `Decimal` as `str`, never as a float.
"""

from __future__ import annotations

import datetime as dt
from copy import copy
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from django.db import models
from django.utils import timezone
from ninja import ModelSchema, Schema
from ninja.orm import create_schema
from pydantic import AwareDatetime, ConfigDict, Field, create_model

from core import clock
from core.models import Client, Contact, Invoice, Project, Proposal
from core.services.clients import CLIENT_FIELDS, CONTACT_FIELDS, PROJECT_FIELDS

# Sizes of the columns, so an oversized number is refused here with its field's name instead of
# overflowing the line arithmetic in the services.
Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2)]
Quantity = Annotated[Decimal, Field(max_digits=12, decimal_places=3)]
Percent = Annotated[Decimal, Field(max_digits=5, decimal_places=2)]
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]  # PostgreSQL bigint


def api_enum(choices: type[models.TextChoices], *, name: str, module: str) -> type[StrEnum]:
    """`choices` as an enum named `name` in the OpenAPI document (ADR 0010).

    pydantic names an enum's schema after its class, and every model calls its own `Status` (or `Kind`):
    ninja then publishes one `Status` for clients, projects, invoices and tasks alike, and a generated
    client refuses valid answers. Members are strings equal to the model's values, so services take them
    as they are. `module` is the defining module, so the enum pickles like any other.
    """
    return StrEnum(name, [(member.name, member.value) for member in choices], module=module, qualname=name)


ClientKind = api_enum(Client.Kind, name="ClientKind", module=__name__)
ClientStatus = api_enum(Client.Status, name="ClientStatus", module=__name__)
ProjectStatus = api_enum(Project.Status, name="ProjectStatus", module=__name__)
ProposalStatus = api_enum(Proposal.Status, name="ProposalStatus", module=__name__)
InvoiceStatus = api_enum(Invoice.Status, name="InvoiceStatus", module=__name__)


class Input(Schema):
    # A misspelt field must be an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class ClientRecordIn(Input):
    # A contact, project, proposal or invoice belongs to one client for good: it names the client when it
    # is created, and no PATCH moves it to another.
    client_id: RecordId


def patch_schema(schema: type[Input]) -> type[Input]:
    """The schema's fields, all optional, for PATCH: only the fields sent change. `ClientIn` gives
    `ClientPatch`; a record's client is not among them (`ClientRecordIn`).

    Unlike ninja's PatchDict it keeps non-null fields non-null, so `{"notes": null}` is a 422
    rather than a NOT NULL violation in the database.
    """
    kept = ClientRecordIn.model_fields if issubclass(schema, ClientRecordIn) else {}
    fields: dict[str, Any] = {}
    for field, info in schema.model_fields.items():
        if field not in kept:
            optional = copy(info)  # keeps the type's constraints and the description
            optional.default, optional.default_factory = None, None
            fields[field] = (info.annotation, optional)
    name = schema.__name__.removesuffix("In") + "Patch"
    return create_model(name, __base__=Input, __doc__=f"Any fields of {schema.__name__}.", **fields)


class RecordOut(Schema):
    # ninja's model schemas would publish the primary key as optional: a record that goes out has one.
    id: int


class ClientRecordOut(RecordOut):
    client_id: int


def record_out(
    model: type[models.Model], *, fields: tuple[str, ...], base: type[RecordOut] = ClientRecordOut
) -> type[Schema]:
    """`<Model>Out`: the ids `base` declares, then `fields` (the ones its services write), then when the
    record was created and last changed."""
    return create_schema(
        model, name=f"{model.__name__}Out", fields=[*fields, "created_at", "updated_at"], base_class=base
    )


def changes(payload: Input | None) -> dict[str, Any]:
    """The fields the client sent, so services keep their defaults and a PATCH changes only these."""
    return payload.model_dump(exclude_unset=True) if payload is not None else {}


# --- Pagination filters ------------------------------------------------------------------------


class ClientFilters(Schema):
    status: ClientStatus | None = None
    search: str | None = Field(None, description="Part of the name or of a billing or contact e-mail.")


class ContactFilters(Schema):
    client_id: RecordId | None = None
    email: str | None = Field(None, description="The exact address, in any case.")


class ProjectFilters(Schema):
    client_id: RecordId | None = None
    status: ProjectStatus | None = None


class ProposalFilters(Schema):
    client_id: RecordId | None = None
    status: ProposalStatus | None = None


class InvoiceFilters(Schema):
    client_id: RecordId | None = None
    status: InvoiceStatus | None = None
    year: int | None = Field(None, ge=1, le=9999, description="The year of the invoice number.")


# --- Clients, contacts, projects ---------------------------------------------------------------


class ClientIn(Input):
    name: str
    kind: ClientKind = ClientKind.ORGANISATION
    status: ClientStatus = ClientStatus.LEAD
    email: str = ""
    website: str = ""
    country: str = Field("", description="ISO 3166 alpha-2 code.")
    billing_street: str = Field("", max_length=200)
    billing_postcode: str = Field("", max_length=20)
    billing_city: str = Field("", max_length=100)
    vat_id: str = Field("", max_length=30, description="EU VAT ID with its country prefix, e.g. DK13585628.")
    default_currency: str = Field("EUR", description="ISO 4217 code.")
    notes: str = ""


ClientPatch = patch_schema(ClientIn)
ClientOut = record_out(Client, fields=CLIENT_FIELDS, base=RecordOut)


class ContactIn(ClientRecordIn):
    name: str
    email: str
    role: str = ""
    phone: str = ""
    is_primary: bool = False


ContactPatch = patch_schema(ContactIn)
ContactOut = record_out(Contact, fields=CONTACT_FIELDS)


class ProjectIn(ClientRecordIn):
    name: str
    status: ProjectStatus = ProjectStatus.PROPOSED
    budget: Money | None = None
    currency: str | None = Field(None, description="ISO 4217 code; the client's currency when omitted.")
    start_date: dt.date | None = None
    due_date: dt.date | None = None
    description: str = ""


ProjectPatch = patch_schema(ProjectIn)
ProjectOut = record_out(Project, fields=PROJECT_FIELDS)


# --- Proposals and invoices --------------------------------------------------------------------


class LineIn(Input):
    description: str
    quantity: Quantity
    unit_price: Money
    unit: str = ""
    service_key: str = ""
    tax_rate: Percent = Field(Decimal("0"), description="Percent.")


class LineOut(Schema):
    position: int
    description: str
    service_key: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    tax_rate: Decimal
    amount: Decimal
    tax_amount: Decimal


class DocumentIn(ClientRecordIn):
    """What proposals and invoices both take: the client, an optional project, currency, notes, lines."""

    project_id: RecordId | None = None
    currency: str | None = Field(None, description="ISO 4217 code; the client's currency when omitted.")
    notes: str = ""
    lines: list[LineIn] = Field(default_factory=list, description="Sent lines replace all lines on PATCH.")


class ProposalIn(DocumentIn):
    title: str
    valid_until: dt.date | None = None
    cover_letter: str = ""


ProposalPatch = patch_schema(ProposalIn)


class ProposalOut(ModelSchema):
    id: int
    client_id: int
    project_id: int | None
    lines: list[LineOut]

    class Meta:
        model = Proposal
        fields = [
            "title",
            "status",
            "currency",
            "subtotal",
            "tax_total",
            "total",
            "valid_until",
            "sent_at",
            "decided_at",
            "cover_letter",
            "notes",
            "created_at",
            "updated_at",
        ]


class ProposalTransitionIn(Input):
    to: ProposalStatus


class InvoiceIn(DocumentIn):
    proposal_id: RecordId | None = None
    due_date: dt.date | None = None
    supply_date: dt.date | None = Field(
        None, description="When the work was delivered; the issue date if omitted."
    )


# Only drafts change; an issued invoice is void-and-reissue.
InvoicePatch = patch_schema(InvoiceIn)


class AgingRow(Schema):
    """Open invoices of one currency by how long past due."""

    currency: str
    count: int
    overdue: int
    amount: Decimal
    current: Decimal = Field(description="Not yet due (or no due date).")
    days_1_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    days_90_plus: Decimal


class OverdueInvoiceOut(Schema):
    id: int
    number: str
    client_id: int
    client_name: str
    total: Decimal
    currency: str
    due_date: dt.date
    days_overdue: int
    reminders_paused: bool
    reminders_sent: list[str] = Field(description="The reminder levels sent so far, in order.")

    @staticmethod
    def resolve_client_name(invoice: Invoice) -> str:
        return invoice.client.name

    @staticmethod
    def resolve_days_overdue(invoice: Invoice) -> int:
        return (timezone.localdate(clock.now()) - invoice.due_date).days

    @staticmethod
    def resolve_reminders_sent(invoice: Invoice) -> list[str]:
        # Prefetched by the endpoint: sorted here, not by a query per invoice.
        sent = [reminder for reminder in invoice.reminders.all() if reminder.status == "sent"]
        return [reminder.level for reminder in sorted(sent, key=lambda reminder: reminder.created_at)]


class InvoiceOut(ModelSchema):
    id: int
    client_id: int
    project_id: int | None
    proposal_id: int | None
    replaces_id: int | None
    lines: list[LineOut]

    class Meta:
        model = Invoice
        fields = [
            "number",
            "status",
            "currency",
            "subtotal",
            "tax_total",
            "total",
            "issue_date",
            "due_date",
            "supply_date",
            "sent_at",
            "paid_at",
            "voided_at",
            "void_reason",
            "notes",
            "created_at",
            "updated_at",
        ]


class InvoiceIssueIn(Input):
    issue_date: dt.date | None = Field(None, description="Today when omitted.")


class InvoiceSentIn(Input):
    sent_at: AwareDatetime | None = Field(None, description="Now when omitted.")


class InvoicePaidIn(Input):
    paid_at: AwareDatetime | None = Field(None, description="Now when omitted.")


class InvoiceVoidIn(Input):
    reason: str
