"""The one door through which agents read the business: a `ClientScope` built from whom the work is for.

Agents may not import `core.models`, `core.services`, `core.selectors` or `core.memory` (import-linter,
`pyproject.toml`); what they read comes through here or their input (docs/adr/0013-client-scope.md).

A scope is built by the ledger for each step from the task's trigger — for mail, from the sender of the
inbound message (`scope_for_message`) — never from an id an agent or a mail supplies:

- a sender who is a contact (or the address) of a client, writing in that client's thread or a new one:
  the scope of that client; its reads return that client's records and nothing else;
- the operator writing in a client's thread: that client's scope;
- anyone else — an address the workspace does not know, or one that belongs to another client than the
  thread it writes in: a scope with no client, whose reads return no record data at all.

Records of other clients never come back as text. Where the operator should know that a mail points at
another client's work (an invoice number of someone else's, similar earlier proposals for a new lead) a
read returns `ForeignRef`s: a link to the record in the back office and its figures, for the approval page
only — never for a draft, a prompt or memory.

Agents never build a scope (they get it in their context); workspace data that is no client's (the
operator's identity, action templates, the service catalogue) they read through `core.workspace_data`.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal
from typing import Any

from django.urls import NoReverseMatch, reverse

from core import selectors
from core.invoicing.preview import invoice_due_date_expected, invoice_number_expected
from core.models import Client, Invoice, Message, Proposal

OPEN_INVOICE_STATUSES = selectors.OPEN_INVOICE_STATUSES
INVOICE_NUMBER = re.compile(r"\b[A-Z]{1,10}-\d{4}-\d{3,6}\b", re.IGNORECASE)


class ScopeError(PermissionError):
    """An agent asked for data outside its scope (a bug in the agent, never the sender's doing)."""


@dataclass(frozen=True)
class ForeignRef:
    """Another client's record as the operator may see it next to a draft: a link and figures, never text.

    It carries no name, title, body or note of the record: only what kind it is, its number (or id), the
    money and the status, and where to open it."""

    kind: str  # "invoice", "proposal"
    id: int
    label: str  # "invoice NW-2026-0006", "proposal #12"
    url: str
    figures: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InvoiceFacts:
    """One of the scope's own invoices, as a reply to its client may state it."""

    number: str
    total: Decimal
    currency: str
    status: str
    status_label: str
    due_date: Any  # datetime.date | None


@dataclass(frozen=True)
class InvoicesMentioned:
    own: list[InvoiceFacts]  # the scope's invoices named in the text, else its open ones
    named: bool  # True when `own` are invoices the text names (not the open-invoice fallback)
    unmatched: list[str]  # numbers named that are none of the scope's invoices (unknown or another's)
    others: list[ForeignRef] = field(default_factory=list)  # of those, the ones another client has


@dataclass(frozen=True)
class ProposalFacts:
    """One of the scope's sent proposals, as an answer to it needs it."""

    pk: int
    title: str
    total: Decimal
    currency: str


@dataclass(frozen=True)
class OpenInvoice:
    pk: int
    number: str
    open_amount: Decimal = Decimal("0.00")
    currency: str = ""


@dataclass(frozen=True)
class InvoiceMailFacts:
    """One of the scope's invoices, with where an email about it (the invoice itself, a reminder) goes."""

    pk: int
    number: str
    total: Decimal
    currency: str
    issue_date: Any
    due_date: Any
    status: str
    reminders_paused: bool
    client_name: str
    to: str  # the primary contact's address, else the client's own
    contact_name: str
    # The latest message of the client that names the invoice (else its proposal), to answer in.
    thread_message_id: str
    thread_references: str
    thread_conversation_id: int | None
    number_expected: str = ""  # a draft's: what issuing it now would number it
    proposal_title: str = ""
    subtotal: Decimal = Decimal("0.00")
    tax_total: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class TriggerMessage:
    """The inbound message the scope was built from, as the intake reader reads it."""

    pk: int
    conversation_id: int
    message_id: str
    references: str
    created_at: Any
    sent_at: Any
    from_email: str
    from_name: str
    subject: str
    body_text: str


def _admin_url(name: str, pk: int) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # the back office is not mounted (a worker without URLs still has them)
        return ""


def _foreign_ref(record: Invoice | Proposal, *, label: str, **figures: str) -> ForeignRef:
    """Another client's invoice or proposal: its link, total and status, and the `figures` of its kind."""
    kind = record._meta.model_name
    return ForeignRef(
        kind=kind,
        id=record.pk,
        label=label,
        url=_admin_url(f"admin:core_{kind}_change", record.pk),
        figures={"total": f"{record.total} {record.currency}", "status": record.status, **figures},
    )


def _invoice_ref(invoice: Invoice) -> ForeignRef:
    due = {"due": invoice.due_date.isoformat()} if invoice.due_date else {}
    return _foreign_ref(invoice, label=f"invoice {invoice.number}", **due)


def _proposal_ref(proposal: Proposal) -> ForeignRef:
    sent = {"sent": proposal.sent_at.date().isoformat()} if proposal.sent_at else {}
    return _foreign_ref(proposal, label=f"proposal #{proposal.pk}", **sent)


class ClientScope:
    """What the agents of one piece of work may read: one client's records, or none."""

    __slots__ = ("client_id", "sender", "reason", "_message_pk")

    def __init__(self, *, client_id: int | None, sender: str, reason: str, _message_pk: int | None = None):
        self.client_id = client_id
        self.sender = sender
        self.reason = reason
        self._message_pk = _message_pk

    def __repr__(self) -> str:
        return f"ClientScope(client_id={self.client_id!r}, sender={self.sender!r})"

    @property
    def known(self) -> bool:
        """True when the work is for a client of the workspace; False: no record data at all."""
        return self.client_id is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "sender": self.sender,
            "reason": self.reason,
            "message": self._message_pk,
        }

    # --- the trigger --------------------------------------------------------------------------

    def trigger_message(self) -> TriggerMessage:
        """The inbound message this scope was built from (the mail being answered)."""
        if self._message_pk is None:
            raise ScopeError("This work was not started by a message.")
        row = Message.objects.values(*(column.name for column in fields(TriggerMessage))).get(
            pk=self._message_pk
        )
        # A mail without a Message-ID header stores NULL there (the column is unique).
        return TriggerMessage(**{**row, "message_id": row["message_id"] or ""})

    # --- the scope's own records ----------------------------------------------------------------

    def memory_client_id(self) -> int:
        """The subject memory recalls are limited to. A scope without a client recalls nothing: its
        reads would otherwise span every client's memory (and every stranger's mail)."""
        if self.client_id is None:
            raise ScopeError("No client: this work may not read memory.")
        return self.client_id

    def invoices_mentioned(self, *, text: str) -> InvoicesMentioned:
        """The scope's invoices whose numbers `text` names, else its open ones (up to five). Numbers that
        are not the scope's are `unmatched` — the same whether nobody or another client has them, so a
        reply cannot tell a guesser which numbers exist — and another client's are `others` (refs)."""
        numbers = sorted({match.upper() for match in INVOICE_NUMBER.findall(text or "")})
        found = list(Invoice.objects.filter(number__in=numbers).order_by("number")) if numbers else []
        own = [invoice for invoice in found if self.known and invoice.client_id == self.client_id]
        others = [invoice for invoice in found if invoice not in own]
        own_numbers = {invoice.number for invoice in own}
        named = bool(own)
        if not own and self.known:
            own = list(
                Invoice.objects.filter(client_id=self.client_id, status__in=OPEN_INVOICE_STATUSES).order_by(
                    "due_date", "pk"
                )[:5]
            )
        return InvoicesMentioned(
            own=[
                InvoiceFacts(
                    number=invoice.number or "",
                    total=invoice.total,
                    currency=invoice.currency,
                    status=invoice.status,
                    status_label=invoice.get_status_display(),
                    due_date=invoice.due_date,
                )
                for invoice in own
            ],
            named=named,
            unmatched=[number for number in numbers if number not in own_numbers],
            others=[_invoice_ref(invoice) for invoice in others],
        )

    def proposal_answered(self, *, subject: str) -> ProposalFacts | None:
        """The scope's sent proposal a reply answers: the one whose title the subject names, else the most
        recently sent one. A scope without a client answers none (a stranger's yes is no yes)."""
        if not self.known:
            return None
        sent = list(
            Proposal.objects.filter(client_id=self.client_id, status=Proposal.Status.SENT).order_by(
                "-sent_at", "-pk"
            )
        )
        folded = " ".join((subject or "").lower().split())
        named = [proposal for proposal in sent if " ".join(proposal.title.lower().split()) in folded]
        chosen = (named or sent or [None])[0]
        if chosen is None:
            return None
        return ProposalFacts(pk=chosen.pk, title=chosen.title, total=chosen.total, currency=chosen.currency)

    def open_invoices_named(self, *, numbers: list[str]) -> list[OpenInvoice]:
        """The scope's open invoices among `numbers`; another client's numbers find nothing."""
        if not self.known or not numbers:
            return []
        rows = (
            selectors.invoices_with_open_amount()
            .filter(client_id=self.client_id, number__in=numbers)
            .order_by("due_date", "number")
        )
        return [
            OpenInvoice(
                pk=invoice.pk,
                number=invoice.number or "",
                open_amount=invoice.open_amount,
                currency=invoice.currency,
            )
            for invoice in rows
        ]

    def invoice_for_mail(self, *, invoice_id: int) -> InvoiceMailFacts | None:
        """One of the scope's invoices with what an email about it needs; None if it is not the scope's."""
        if not self.known:
            return None
        invoice = (
            Invoice.objects.select_related("client", "proposal")
            .filter(pk=invoice_id, client_id=self.client_id)
            .first()
        )
        if invoice is None:
            return None
        contact = invoice.client.contacts.order_by("-is_primary", "pk").first()
        to, name = (
            (contact.email, contact.name)
            if contact is not None and contact.email
            else (invoice.client.email, "")
        )
        mine = Message.objects.filter(conversation__client_id=self.client_id).order_by("-created_at")
        thread = mine.filter(subject__icontains=invoice.number).first() if invoice.number else None
        if thread is None and invoice.proposal is not None:
            thread = mine.filter(subject__icontains=invoice.proposal.title).first()
        return InvoiceMailFacts(
            pk=invoice.pk,
            number=invoice.number or "",
            total=invoice.total,
            currency=invoice.currency,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date or invoice_due_date_expected(invoice=invoice),
            status=invoice.status,
            reminders_paused=invoice.reminders_paused,
            client_name=invoice.client.name,
            to=(to or "").lower(),
            contact_name=name or "",
            thread_message_id=thread.message_id if thread is not None and thread.message_id else "",
            thread_references=thread.references if thread is not None else "",
            thread_conversation_id=thread.conversation_id if thread is not None else None,
            number_expected=invoice_number_expected(invoice=invoice),
            proposal_title=invoice.proposal.title if invoice.proposal is not None else "",
            subtotal=invoice.subtotal,
            tax_total=invoice.tax_total,
        )

    def similar_work(self, *, service_keys: list[str], limit: int = 3) -> list[ForeignRef]:
        """Earlier proposals of *other* clients for the same services, as refs (figures and links) for
        the operator to compare a price with. The scope's own earlier work comes from memory instead."""
        keys = [key for key in service_keys if key]
        if not keys:
            return []
        proposals = (
            Proposal.objects.filter(lines__service_key__in=keys).distinct().order_by("-created_at", "-pk")
        )
        if self.known:
            proposals = proposals.exclude(client_id=self.client_id)
        if self._message_pk is not None:
            # Earlier than the mail: what the operator could compare with then (and a replay reads the same).
            received = Message.objects.filter(pk=self._message_pk).values_list("created_at", flat=True)
            proposals = proposals.filter(created_at__lt=received[:1])
        return [_proposal_ref(proposal) for proposal in proposals[:limit]]


def scope_none(*, reason: str = "The work is for no client.") -> ClientScope:
    return ClientScope(client_id=None, sender="", reason=reason)


def scope_restore(data: dict[str, Any]) -> ClientScope:
    """A scope as `ClientScope.as_dict()` recorded it (the ledger's replay; never from an agent's data)."""
    return ClientScope(
        client_id=data.get("client_id"),
        sender=data.get("sender") or "",
        reason=data.get("reason") or "",
        _message_pk=data.get("message"),
    )


def scope_for_client(*, client_pk: int) -> ClientScope:
    """The scope of work the operator (or the system on their behalf) started for one client."""
    if not Client.objects.filter(pk=client_pk).exists():
        raise ScopeError(f"No client {client_pk}.")
    return ClientScope(client_id=client_pk, sender="", reason="Started for this client.")


def _operator_email() -> str:
    workspace = selectors.workspace_get()
    return (workspace.operator_email or "").lower() if workspace else ""


def scope_for_message(*, message_pk: int) -> ClientScope:
    """The scope of work started by an inbound message: its sender's client, if the sender is known and
    writes in that client's thread (or a new one); the thread's client when the operator writes; no client
    otherwise. (A thread only takes a mail from its client's people — the importer checks that too.)"""
    message = Message.objects.select_related("conversation").get(pk=message_pk)
    sender = (message.from_email or "").strip().lower()
    client_id, reason = _sender_client(sender=sender, thread_client=message.conversation.client_id)
    return ClientScope(client_id=client_id, sender=sender, reason=reason, _message_pk=message.pk)


def _sender_client(*, sender: str, thread_client: int | None) -> tuple[int | None, str]:
    """Whose records the work on a mail from `sender` in a thread of `thread_client` may read, and why."""
    if sender and sender == _operator_email():
        if thread_client is None:
            return None, "The operator, in no client's thread."
        return thread_client, "The operator, in a client's thread."
    if thread_client is not None and selectors.client_has_address(client_id=thread_client, email=sender):
        return thread_client, "The sender is one of the client's people, in the client's thread."
    sender_client = selectors.client_for_address(email=sender)
    if sender_client is None:
        return None, "The sender is not known to the workspace: no record data."
    if thread_client is not None:
        return None, "The sender belongs to another client than the thread: no record data."
    return sender_client.pk, "The sender is a contact of the client."


__all__ = [
    "ClientScope",
    "ForeignRef",
    "InvoiceFacts",
    "InvoicesMentioned",
    "ScopeError",
    "TriggerMessage",
    "scope_for_client",
    "scope_for_message",
    "scope_none",
    "scope_restore",
]
