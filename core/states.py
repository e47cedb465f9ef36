"""The states and kinds of core's records: one vocabulary, importable without the models.

Saleor keeps an app's statuses beside its models the same way (`saleor/order/__init__.py` holds
`OrderStatus`, which models, mutations and webhooks import). Here the models take their choices from
this module and keep them under their own names (`Invoice.Status` is `InvoiceStatus`), so callers
spell a state either way. What needs a state but not a record imports it from here without loading
the app registry: schemas and policy parameters that validate a state, and agents, which must not
import `core.models` (ADR 0013) and read records through their scope.

Values are what the database stores and labels what the back office shows: changing either changes
the fields' choices, which is a migration.
"""

from __future__ import annotations

from django.db import models

# Clients and their work (core.models.clients)


class ClientKind(models.TextChoices):
    ORGANISATION = "organisation", "Organisation"
    PERSON = "person", "Person"


class ClientStatus(models.TextChoices):
    LEAD = "lead", "Lead"
    ACTIVE = "active", "Active"
    PAST = "past", "Past"


class ProjectStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class DeliverableStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DELIVERED = "delivered", "Delivered"
    ACCEPTED = "accepted", "Accepted"


class ContractStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    SIGNED = "signed", "Signed"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"


# Money out (core.models.money)


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING_APPROVAL = "pending_approval", "Pending approval"
    # Approved and its email in the outbox, not yet taken by the mail server: "sent" only once it is.
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved (issued)"
    SENT = "sent", "Sent"
    PAID = "paid", "Paid"
    OVERDUE = "overdue", "Overdue"
    VOID = "void", "Void"


class InvoiceReminderStatus(models.TextChoices):
    PROPOSED = "proposed", "Waiting for approval"
    # Approved, its email in the outbox: "sent" only once the mail server took it (ADR 0014).
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"


# Money in (core.models.payments)


class BankStatementFormat(models.TextChoices):
    CAMT053 = "camt053", "CAMT.053 (ISO 20022)"
    MT940 = "mt940", "MT940"
    OFX = "ofx", "OFX"
    CSV = "csv", "CSV"


class BankEntryMatch(models.TextChoices):
    EXACT = "exact", "Exact"
    SEVERAL = "several", "Several invoices"
    PARTIAL = "partial", "Partial payment"
    OVERPAID = "overpaid", "Overpaid"
    AMBIGUOUS = "ambiguous", "Ambiguous"
    NONE = "none", "Unmatched"
    DEBIT = "debit", "Debit (not matched)"


class BankEntryStatus(models.TextChoices):
    OPEN = "open", "Waiting for the operator"
    PROPOSED = "proposed", "Payment proposed"
    RECORDED = "recorded", "Payment recorded"
    IGNORED = "ignored", "Ignored"


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CARD = "card", "Card"
    CASH = "cash", "Cash"
    OTHER = "other", "Other"


class PaymentSource(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    BANK_STATEMENT = "bank_statement", "Bank statement"
    EMAIL = "email", "Payment notice (email)"


# Conversations (core.models.conversations)


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    MEETING = "meeting", "Meeting"
    CHAT = "chat", "Chat"
    OTHER = "other", "Other"


class MessageDirection(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


# Memory (core.models.memory)


class MemoryTier(models.TextChoices):
    SESSION = "session", "Session"
    WORKING = "working", "Working"
    CANONICAL = "canonical", "Canonical"


class MemoryKind(models.TextChoices):
    MESSAGE = "message", "Message"
    PROPOSAL = "proposal", "Proposal"
    DECISION = "decision", "Decision"
    NOTE = "note", "Note"
    ARTIFACT = "artifact", "Artifact"
    SUMMARY = "summary", "Summary"
    FACT = "fact", "Fact"


# The workspace's catalogue (core.models.workspace)


class ActionTemplateKind(models.TextChoices):
    PROPOSAL = "proposal", "Proposal cover"
    FOLLOW_UP = "follow_up", "Follow-up"
    REMINDER = "reminder", "Payment reminder"
    INVOICE = "invoice", "Invoice email"
    REPLY = "reply", "Reply"
