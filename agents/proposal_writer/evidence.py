"""What travels with every proposed action for the approval page: the mail it was read from and the
fields inferred from it, with their spans and confidence."""

from __future__ import annotations

from typing import Any

from agents.estimator import Estimate
from agents.intake import MailRead
from agents.kernel import InferredField


def mail_source(read: MailRead, other_clients: list[Any] = ()) -> dict[str, Any]:
    # Other clients' records as links with figures, for the approval page only (the committers never
    # read the source; nothing here reaches the draft, memory or a prompt).
    refs = [ref if isinstance(ref, dict) else ref.as_dict() for ref in other_clients]
    refs = {"other_clients": refs} if refs else {}
    return refs | {
        "type": "message",
        "id": read.message_pk,
        "conversation_id": read.conversation_id,
        "text": read.new_text,
        "subject": read.subject,
        "from": read.from_email,
        "received_at": read.received_at,
        "untrusted": True,
    }


def inferred_fields(intake: dict[str, Any], estimate: Estimate | None = None) -> list[InferredField]:
    """The intake's fields with their evidence, and the estimate's lines with where quantities came from."""
    evidence = intake.get("evidence") or {}
    fields = []
    for name in ("intent", "sender_name", "company", "budget", "deadline", "services"):
        found = evidence.get(name) or {}
        # Spans are highlighted in the mail's new text; one read from the subject or headers is shown
        # with its snippet only.
        span = found.get("span") if found.get("origin", "new_text") == "new_text" else None
        fields.append(
            InferredField(
                field=name,
                value=intake.get(name),
                source=found.get("source") or "",
                span=tuple(span) if isinstance(span, list | tuple) and len(span) == 2 else None,
                confidence=found.get("confidence"),
            )
        )
    for line in estimate.lines if estimate else []:
        fields.append(
            InferredField(
                field=f"line: {line.description}",
                value=f"{line.quantity} {line.unit} × {line.unit_price} = {line.amount}",
                source=line.quantity_source,
                confidence=estimate.confidence,
            )
        )
    if estimate and estimate.budget_note:
        fields.append(
            InferredField(field="budget check", value=estimate.budget_note, confidence=estimate.confidence)
        )
    return fields
