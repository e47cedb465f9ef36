"""Reads of the canonical records. Views, the API and other apps read core data through these."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import clock
from core.matching import MatchIndex, OpenInvoice
from core.models import (
    ActionTemplate,
    BankEntry,
    Client,
    Contact,
    Conversation,
    Invoice,
    Message,
    PayerAccount,
    Payment,
    PaymentAllocation,
    PricingRule,
    Project,
    Proposal,
    Workspace,
)

OPEN_INVOICE_STATUSES = (Invoice.Status.APPROVED, Invoice.Status.SENT, Invoice.Status.OVERDUE)


def workspace_get() -> Workspace | None:
    return Workspace.objects.filter(pk=1).first()


def workspace_overview() -> dict:
    """The figures of the home page, in a fixed number of queries whatever the data size."""
    clients = Client.objects.aggregate(
        leads=Count("pk", filter=Q(status=Client.Status.LEAD)),
        active=Count("pk", filter=Q(status=Client.Status.ACTIVE)),
        total=Count("pk"),
    )
    return {
        "workspace": workspace_get(),
        "clients": clients,
        "active_projects": Project.objects.filter(status=Project.Status.ACTIVE).count(),
        "open_proposals": Proposal.objects.filter(
            status__in=[
                Proposal.Status.DRAFT,
                Proposal.Status.PENDING_APPROVAL,
                Proposal.Status.SENDING,
                Proposal.Status.SENT,
            ]
        ).count(),
        "receivables": receivables_aging(today=timezone.localdate(clock.now())),
    }


AGING_BUCKETS = (
    ("current", "Not yet due"),
    ("days_1_30", "1–30 days"),
    ("days_31_60", "31–60 days"),
    ("days_61_90", "61–90 days"),
    ("days_90_plus", "Over 90 days"),
)


def receivables_aging(*, today: dt.date) -> list[dict]:
    """Open invoices per currency by how long past due (current, 1–30, 31–60, 61–90, 90+ days): one
    query. An invoice without a due date is current."""

    def past_due(low: int, high: int | None) -> Q:
        condition = Q(due_date__lte=today - dt.timedelta(days=low))
        return condition & Q(due_date__gt=today - dt.timedelta(days=high)) if high else condition

    buckets = {
        "current": Q(due_date__gte=today) | Q(due_date__isnull=True),
        "days_1_30": past_due(1, 31),
        "days_31_60": past_due(31, 61),
        "days_61_90": past_due(61, 91),
        "days_90_plus": past_due(91, None),
    }
    zero = Value(Decimal("0.00"))
    rows = (
        Invoice.objects.filter(status__in=OPEN_INVOICE_STATUSES)
        .values("currency")
        .annotate(
            count=Count("pk"),
            overdue=Count("pk", filter=Q(status=Invoice.Status.OVERDUE)),
            amount=Sum("total"),
            **{name: Coalesce(Sum("total", filter=condition), zero) for name, condition in buckets.items()},
        )
        .order_by("currency")
    )
    return list(rows)


def invoices_overdue() -> QuerySet[Invoice]:
    """Overdue invoices, longest overdue first, with their client."""
    return (
        Invoice.objects.filter(status=Invoice.Status.OVERDUE)
        .select_related("client")
        .order_by("due_date", "pk")
    )


def _where_given(rows: QuerySet, **lookups: Any) -> QuerySet:
    """`rows` filtered by each lookup whose value was given (None, 0 or "" stand for any)."""
    return rows.filter(**{lookup: value for lookup, value in lookups.items() if value})


def client_list(*, status: str | None = None, search: str | None = None) -> QuerySet[Client]:
    qs = _where_given(Client.objects.all(), status=status)
    if search:
        qs = qs.filter(
            Q(name__icontains=search) | Q(email__icontains=search) | Q(contacts__email__icontains=search)
        )
        qs = qs.distinct()
    return qs.order_by("name", "pk")


def invoice_list(
    *, status: str | None = None, client_id: int | None = None, year: int | None = None
) -> QuerySet[Invoice]:
    invoices = Invoice.objects.select_related("client", "project")
    invoices = _where_given(invoices, status=status, client_id=client_id, number_year=year)
    return invoices.order_by("-created_at", "-pk")


def contact_list(*, client_id: int | None = None, email: str | None = None) -> QuerySet[Contact]:
    email = email.strip().lower() if email else None
    contacts = _where_given(Contact.objects.all(), client_id=client_id, email=email)
    return contacts.order_by("client_id", "-is_primary", "name", "pk")


def project_list(*, client_id: int | None = None, status: str | None = None) -> QuerySet[Project]:
    projects = _where_given(Project.objects.all(), client_id=client_id, status=status)
    return projects.order_by("-created_at", "-pk")


def proposal_list(*, client_id: int | None = None, status: str | None = None) -> QuerySet[Proposal]:
    proposals = _where_given(Proposal.objects.all(), client_id=client_id, status=status)
    return proposals.order_by("-created_at", "-pk")


def addresses_written_to(*, addresses: list[str]) -> set[str]:
    """Which of `addresses` the workspace has written to: an outbound message to or cc them, or the
    operator's own address. (The ledger adds the emails its outbox has sent.)"""
    wanted = {address.strip().lower() for address in addresses if address and address.strip()}
    if not wanted:
        return set()
    known = set()
    workspace = workspace_get()
    if workspace is not None and workspace.operator_email:
        known.add(workspace.operator_email.lower())
    outbound = Message.objects.filter(direction=Message.Direction.OUTBOUND)
    known |= addresses_among_recipients(rows=outbound, addresses=sorted(wanted - known))
    return known & wanted


def addresses_among_recipients(*, rows: QuerySet, addresses: list[str]) -> set[str]:
    """Which of `addresses` appear in the `to` or `cc` (JSON lists) of `rows`: messages, outbox emails."""
    if not addresses:
        return set()
    condition = Q()
    for address in addresses:
        condition |= Q(to__contains=[address]) | Q(cc__contains=[address])
    found: set[str] = set()
    for to, cc in rows.filter(condition).values_list("to", "cc"):
        found.update(str(address).lower() for address in [*(to or []), *(cc or [])])
    return found & set(addresses)


def client_status_for(*, client_id: int | None = None, addresses: list[str] = ()) -> str | None:
    """The status of the client an action is about: by id, else by a recipient's contact address."""
    if client_id:
        return Client.objects.filter(pk=client_id).values_list("status", flat=True).first()
    for address in addresses:
        client = client_for_address(email=address)
        if client is not None:
            return client.status
    return None


def message_for_intake(*, message_pk: int) -> Message:
    """An inbound message with its conversation (raises Message.DoesNotExist)."""
    return Message.objects.select_related("conversation").get(pk=message_pk)


def action_template_get(*, key: str) -> ActionTemplate | None:
    """The active action template named `key` (the operator may switch one off), or None."""
    return ActionTemplate.objects.filter(key=key, active=True).first()


def service_catalogue() -> list[dict[str, str]]:
    """The active pricing rules as plain data (what agents price and recognise services by)."""
    return [
        {
            "key": rule.service_key,
            "name": rule.name,
            "description": rule.description,
            "unit": rule.unit,
            "unit_price": str(rule.unit_price),
            "currency": rule.currency,
            "min_units": str(rule.min_units),
        }
        # Catalogue order (as the operator entered the rules): the order services are listed in.
        for rule in PricingRule.objects.filter(active=True).order_by("pk")
    ]


# --- Email in (connectors) -------------------------------------------------------------------


def client_for_address(*, email: str) -> Client | None:
    """The client an address belongs to: a contact's client first (the primary contact's when several),
    else the client whose own address it is. Reads only; it never creates a lead."""
    address = (email or "").strip().lower()
    if not address:
        return None
    contact = (
        Contact.objects.select_related("client")
        .filter(email=address)
        .order_by("-is_primary", "client_id", "pk")
        .first()
    )
    if contact is not None:
        return contact.client
    return Client.objects.filter(email=address).order_by("pk").first()


def client_has_address(*, client_id: int, email: str) -> bool:
    """Whether `email` is one of the client's: a contact's address or the client's own."""
    address = (email or "").strip().lower()
    if not address:
        return False
    return (
        Contact.objects.filter(client_id=client_id, email=address).exists()
        or Client.objects.filter(pk=client_id, email=address).exists()
    )


def client_id_for_address(*, email: str) -> int | None:
    """The client `email` belongs to (a contact's address or the client's own), None when nobody's."""
    address = (email or "").strip().lower()
    if not address:
        return None
    found = Contact.objects.filter(email=address).values_list("client_id", flat=True).first()
    if found is None:
        found = Client.objects.filter(email=address).values_list("pk", flat=True).first()
    return found


def thread_admits(*, conversation: Conversation, email: str) -> bool:
    """Whether a mail from `email` may join `conversation` by its In-Reply-To/References: the operator,
    and anyone of the thread's client; a thread without a client only takes an address already in it.
    Anyone else starts a thread of their own — a forged In-Reply-To must not make an outsider part of a
    client's conversation (and so of what a reply in it may say)."""
    address = (email or "").strip().lower()
    if not address:
        return False
    workspace = workspace_get()
    if workspace is not None and address == (workspace.operator_email or "").lower():
        return True
    if conversation.client_id is not None:
        return client_has_address(client_id=conversation.client_id, email=address)
    messages = Message.objects.filter(conversation=conversation)
    if messages.filter(from_email=address).exists():
        return True
    return bool(addresses_among_recipients(rows=messages, addresses=[address]))


def messages_by_message_id(*, message_ids: list[str]) -> dict[str, Message]:
    """The stored messages among `message_ids` (without angle brackets), keyed by their Message-ID."""
    wanted = {message_id for message_id in message_ids if message_id}
    if not wanted:
        return {}
    return {
        message.message_id: message
        for message in Message.objects.select_related("conversation").filter(message_id__in=wanted)
    }


# --- Payments (ADR 0016) ---------------------------------------------------------------------------


def invoices_with_open_amount(*, ids: list[int] | None = None) -> QuerySet[Invoice]:
    """Issued, unpaid invoices annotated with `allocated` and `open_amount` (total minus allocations)."""
    allocated = (
        PaymentAllocation.objects.filter(invoice=OuterRef("pk"))
        .order_by()
        .values("invoice")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    qs = Invoice.objects.filter(status__in=OPEN_INVOICE_STATUSES)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.annotate(
        allocated=Coalesce(
            Subquery(allocated, output_field=money), Value(Decimal("0.00")), output_field=money
        )
    ).annotate(open_amount=F("total") - F("allocated"))


def invoice_open_amount(*, invoice: Invoice) -> Decimal:
    """What is still owed on an invoice: nothing once paid or void."""
    row = invoices_with_open_amount(ids=[invoice.pk]).values_list("open_amount", flat=True).first()
    return row if row is not None else Decimal("0.00")


def client_credit(*, client_id: int) -> dict[str, Decimal]:
    """The client's credit per currency: what their payments brought in beyond what is allocated."""
    paid = dict(
        Payment.objects.filter(client_id=client_id)
        .values("currency")
        .annotate(total=Sum("amount"))
        .values_list("currency", "total")
    )
    allocated = dict(
        PaymentAllocation.objects.filter(payment__client_id=client_id)
        .values("payment__currency")
        .annotate(total=Sum("amount"))
        .values_list("payment__currency", "total")
    )
    credit = {currency: total - allocated.get(currency, Decimal("0.00")) for currency, total in paid.items()}
    return {currency: amount for currency, amount in sorted(credit.items()) if amount != 0}


def payment_match_index() -> MatchIndex:
    """Everything matching needs, in three queries: the open invoices with what is still owed, the IBANs
    known per client, and the names clients and their payers go by."""
    # The columns are the ones OpenInvoice declares (its `id` is the invoice's primary key).
    columns = [column.name for column in dataclasses.fields(OpenInvoice)]
    invoices = [OpenInvoice(**row) for row in invoices_with_open_amount().values(*columns)]
    accounts = list(PayerAccount.objects.values_list("iban", "name", "client_id"))
    names = [(name, client) for _, name, client in accounts if name]
    names += list(Client.objects.values_list("name", "pk"))
    ibans = {iban: client for iban, _, client in accounts if iban}
    return MatchIndex(invoices=invoices, payer_ibans=ibans, payer_names=names)


def bank_entries_waiting() -> QuerySet:
    """Credits no payment was proposed for: unmatched and ambiguous entries, oldest first."""
    return BankEntry.objects.filter(status=BankEntry.Status.OPEN, amount__gt=0).order_by("booked_on", "pk")
