"""What becomes memory, and the ledger tasks that capture it after the record's transaction commits.

Each capturable record maps to a `Capture`: its text cut into chunks, kind, tier, subject and
importance. `memory_capture_request(record=…)` queues a `memory.capture` ledger task once the
surrounding transaction commits; its idempotency key includes a hash of the text, so saving a record
without changing what it says queues nothing, and a changed record is captured again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from core import ports
from core.memory.text import new_text, text_chunks
from core.models import Artifact, Decision, MemoryItem, Message, Note, Proposal

logger = logging.getLogger(__name__)
Kind, Tier = MemoryItem.Kind, MemoryItem.Tier


@dataclass
class Capture:
    kind: str
    client_id: int | None
    project_id: int | None
    importance: float
    chunks: list[str]
    tier: str = Tier.WORKING
    # Whether the text came from outside the business, and from where (MemoryItem.untrusted / origin).
    untrusted: bool = False
    origin: str = ""

    @classmethod
    def about(cls, record: models.Model, **fields: Any) -> Capture:
        """A capture filed under the client and project of `record` (every captured record has both,
        a message through its conversation)."""
        return cls(client_id=record.client_id, project_id=record.project_id, **fields)


def _chunks(text: str, *, header: str) -> list[str]:
    """`text` cut into chunks; the first carries `header` (who, what about), so it reads on its own when
    recalled."""
    chunks = text_chunks(text)
    if chunks:
        chunks[0] = f"{header}: {chunks[0]}"
    return chunks


def _message(message: Message) -> Capture:
    said = new_text(message.body_text)
    who = message.from_name or message.from_email or ("we" if message.direction == "outbound" else "")
    header = f"{who} wrote" + (f" about {message.subject}" if message.subject else "")
    return Capture.about(
        message.conversation,
        kind=Kind.MESSAGE,
        importance=0.5 if message.direction == "inbound" else 0.4,
        chunks=_chunks(said, header=header),
        untrusted=message.direction == Message.Direction.INBOUND,
        origin=(
            f"mail from {message.from_email}"
            if message.direction == Message.Direction.INBOUND
            else "mail we sent"
        ),
    )


def _proposal(proposal: Proposal) -> Capture:
    lines = [
        f"- {line.description}: {line.quantity:g} × {line.unit_price} {proposal.currency}"
        for line in proposal.lines.order_by("position", "pk")
    ]
    text = f"Proposal {proposal.title!r} ({proposal.status}), total {proposal.total} {proposal.currency}."
    parts = [text, proposal.cover_letter.strip(), "\n".join(lines)]
    return Capture.about(
        proposal,
        kind=Kind.PROPOSAL,
        importance=0.7,
        chunks=text_chunks("\n\n".join(part for part in parts if part)),
    )


def _decision(decision: Decision) -> Capture:
    text = f"Decided: {decision.title}." + (
        f" {decision.rationale.strip()}" if decision.rationale.strip() else ""
    )
    return Capture.about(
        decision,
        kind=Kind.DECISION,
        importance=0.8,
        chunks=text_chunks(text),
        # A review of a mail carries what was read in it (its subject, the fields found).
        untrusted=_about_inbound_mail(decision),
        origin="decision about a mail" if _about_inbound_mail(decision) else "decision",
    )


def _note(note: Note) -> Capture:
    return Capture.about(
        note,
        kind=Kind.NOTE,
        tier=Tier.CANONICAL if note.pinned else Tier.WORKING,
        importance=0.9 if note.pinned else 0.6,
        chunks=text_chunks(note.text),
        # A note without an author was written by a task (a change brief quoting the client's mail).
        untrusted=note.created_by_id is None,
        origin="note by the operator" if note.created_by_id else "note written by a task from a mail",
    )


def _artifact(artifact: Artifact) -> Capture:
    # A file that came attached to an inbound mail is the sender's text; one the operator filed is not.
    mail = artifact.messages.filter(direction=Message.Direction.INBOUND).order_by("pk").first()
    return Capture.about(
        artifact,
        kind=Kind.ARTIFACT,
        importance=0.4,
        chunks=_chunks(artifact.extracted_text, header=f"From the file {artifact.filename}"),
        untrusted=mail is not None,
        origin=f"attachment of mail from {mail.from_email}" if mail is not None else "file",
    )


def _about_inbound_mail(decision: Decision) -> bool:
    subject_type = decision.subject_type
    if subject_type is None or subject_type.model_class() is not Message:
        return False
    return Message.objects.filter(pk=decision.subject_id, direction=Message.Direction.INBOUND).exists()


CAPTURERS = {
    "core.message": _message,
    "core.proposal": _proposal,
    "core.decision": _decision,
    "core.note": _note,
    "core.artifact": _artifact,
}


def source_label(record: models.Model) -> str:
    return record._meta.label_lower


def source_get(*, label: str, pk: int) -> models.Model | None:
    if label not in CAPTURERS:
        raise LookupError(f"{label} is not captured into memory")
    return apps.get_model(label).objects.filter(pk=pk).first()


def capture_of(record: models.Model) -> Capture:
    return CAPTURERS[source_label(record)](record)


def capture_digest(capture: Capture) -> str:
    """A hash of what a capture would remember: part of its task's idempotency key."""
    meta = f"{capture.kind}|{capture.tier}|{capture.client_id}|{capture.project_id}|"
    return hashlib.sha256((meta + "\x1f".join(capture.chunks)).encode()).hexdigest()[:24]


def memory_capture_request(*, record: models.Model) -> None:
    """Capture `record` into memory once the current transaction commits (now if there is none).

    The capture is a ledger task; core reaches it through a port (`core.ports.memory_capture_submit`,
    wired by the ledger) because it may not import the ledger."""
    label, pk = source_label(record), record.pk

    def submit() -> None:
        try:
            ports.memory_capture_submit(label=label, pk=pk)
        except Exception:  # the record is committed already; a failed capture must not hide that
            logger.exception("could not queue memory capture of %s %s", label, pk)

    transaction.on_commit(submit)


def memory_forget_source(*, record: models.Model) -> int:
    """Delete the memory made from a record (when the record itself is deleted)."""
    deleted, _ = MemoryItem.objects.filter(
        source_type=ContentType.objects.get_for_model(record), source_id=record.pk
    ).delete()
    return deleted
