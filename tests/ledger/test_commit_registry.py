"""The registered committers, pinned: how they are declared may change, what the registry tells the policy
engine, the approval pages and the task page may not."""

import pytest

from ledger import commit
from ledger.commit import registry

COMMITTERS = {
    "client.erase": (
        "personal",
        "ClientDataPayload",
        False,
        None,
        "Erased personal data is gone for good (backups age out after AIOS_BACKUP_KEEP days).",
    ),
    "client.export": (
        "personal",
        "ClientDataPayload",
        False,
        None,
        "An export hands data over; once downloaded it cannot be taken back.",
    ),
    "decision.record": (
        "record",
        "DecisionPayload",
        False,
        None,
        "Decisions are kept as history; record a new decision to change course.",
    ),
    "email.send": ("external", "EmailPayload", False, None, "A sent email cannot be unsent."),
    "intake.review": (
        "record",
        "IntakeReviewPayload",
        False,
        None,
        "The review is kept as a decision in the record.",
    ),
    "invoice.mark_paid": (
        "money",
        "InvoicePaidPayload",
        False,
        None,
        "A payment is a money record: correct it with a new, approved change.",
    ),
    "invoice.remind": (
        "external",
        "InvoiceRemindPayload",
        False,
        "invoice_remind_delivered",
        "A sent reminder cannot be unsent.",
    ),
    "invoice.reminders_pause": (
        "internal",
        "RemindersPausePayload",
        False,
        None,
        "This effect cannot be reverted from here.",
    ),
    "invoice.send": (
        "external",
        "InvoiceSendPayload",
        False,
        "invoice_send_delivered",
        "A sent invoice cannot be unsent: void it (a credit note is issued) and send another.",
    ),
    "invoice.void": (
        "money",
        "InvoiceVoidPayload",
        False,
        None,
        "A voided invoice stays void; reissue it instead.",
    ),
    "memory.compress": (
        "internal",
        "MemoryCompressPayload",
        False,
        None,
        "This effect cannot be reverted from here.",
    ),
    "memory.expire": (
        "internal",
        "MemorySweepPayload",
        False,
        None,
        "This effect cannot be reverted from here.",
    ),
    "memory.retain": (
        "internal",
        "MemorySweepPayload",
        False,
        None,
        "This effect cannot be reverted from here.",
    ),
    "memory.store": (
        "internal",
        "MemoryStorePayload",
        False,
        None,
        "This effect cannot be reverted from here.",
    ),
    "note.create": (
        "record",
        "NoteCreatePayload",
        False,
        None,
        "A note stays in the record; edit or delete it in the back office.",
    ),
    "payment.allocate": (
        "money",
        "PaymentAllocatePayload",
        False,
        None,
        "An allocation is a money record: correct it with a new, approved change.",
    ),
    "payment.record": (
        "money",
        "PaymentRecordPayload",
        False,
        None,
        "A payment is a money record: correct it with a new, approved change.",
    ),
    "proposal.accept": (
        "record",
        "ProposalAcceptPayload",
        False,
        None,
        "An accepted proposal stays accepted; cancel the project or void its invoice instead.",
    ),
    "proposal.decline": (
        "record",
        "ProposalDeclinePayload",
        False,
        None,
        "A declined proposal stays declined; write a new proposal to try again.",
    ),
    "proposal.send": (
        "external",
        "ProposalSendPayload",
        False,
        "proposal_delivered",
        "A sent proposal cannot be unsent; withdraw it in the back office.",
    ),
    "record.delete": (
        "delete",
        "RecordDeletePayload",
        False,
        None,
        "A deleted record is gone; its history rows remain.",
    ),
    "record.revert": ("record", "RecordRevertPayload", True, None, ""),
    "record.update": ("record", "RecordUpdatePayload", True, None, ""),
}


def test_the_registry_holds_exactly_the_declared_committers():
    registered = {
        kind: (
            commit.committer_effect(kind),
            registry._COMMITTERS[kind].payload.__name__,
            commit.committer_reversible(kind),
            getattr(registry._COMMITTERS[kind].delivered, "__name__", None),
            commit.committer_irreversible_note(kind),
        )
        for kind in commit.committer_kinds()
    }

    assert registered == COMMITTERS


def test_a_committer_must_name_its_payload_model_in_its_signature():
    def commit_untyped(payload, action, task):
        return {}

    with pytest.raises(TypeError, match="annotate `payload`"):
        commit.committer("test.untyped", effect=commit.INTERNAL)(commit_untyped)

    assert not commit.committer_exists("test.untyped")
