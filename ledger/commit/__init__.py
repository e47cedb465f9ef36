"""Committers: what each action kind does when the ledger commits it.

`registry` keeps the committers and what they declare (effect class, payload model, reversibility); one
module per domain of action kinds (email, the canonical record and money documents, memory) registers its
committers there when this package is imported.
"""

from ledger.commit import email, invoices, memory, payments, privacy, proposals, records, reminders
from ledger.commit.email import EmailPayload, message_id_for, sender_address
from ledger.commit.registry import (
    DELETE,
    EFFECTS,
    EXTERNAL,
    FLOORED,
    INTERNAL,
    MONEY,
    PERSONAL,
    RECORD,
    Committer,
    Registered,
    action_commit,
    action_delivered,
    committer,
    committer_effect,
    committer_exists,
    committer_irreversible_note,
    committer_kinds,
    committer_reversible,
    payload_validate,
)

__all__ = [
    "DELETE",
    "EFFECTS",
    "EXTERNAL",
    "FLOORED",
    "INTERNAL",
    "MONEY",
    "PERSONAL",
    "RECORD",
    "Committer",
    "EmailPayload",
    "Registered",
    "action_commit",
    "action_delivered",
    "committer",
    "committer_effect",
    "committer_exists",
    "committer_irreversible_note",
    "committer_kinds",
    "committer_reversible",
    "email",
    "memory",
    "message_id_for",
    "payload_validate",
    "payments",
    "privacy",
    "proposals",
    "records",
    "reminders",
    "invoices",
    "sender_address",
]
