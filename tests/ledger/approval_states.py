"""Approval requests for the approval page tests, written as rows (fast: 500 in three bulk inserts).

The real flow (an email.send task asked by the policy) is `tests.ledger.states.waiting_email`; these rows
have what that flow cannot give yet: a source text with the spans an agent read, and memory recalls.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.utils import timezone

from core.models import MemoryRecall
from ledger.models import Action, ApprovalRequest, LLMCall, Task

SOURCE_TEXT = (
    "Hi Sam,\n\nCould you send the <signed> proposal to anna.long-name@client-with-a-very-long-domain"
    ".example by Friday? The budget is 4 800 EUR.\n\nhttps://client-with-a-very-long-domain.example/"
    "projects/2025/website-redesign/brief?version=final&approved=true\n\nThanks, Anna"
)
ANNA = "anna.long-name@client-with-a-very-long-domain.example"
POLICIES = [{"id": None, "name": "builtin:external-effects", "version": None, "kind": "builtin"}]
REASON = "It sends an email outside the workspace. Hard floor: sending to a recipient never written to."


def _span(needle: str) -> list[int]:
    start = SOURCE_TEXT.index(needle)
    return [start, start + len(needle)]


INFERRED = [
    {"field": "to", "value": [ANNA], "source": "", "span": _span(ANNA), "confidence": 0.97},
    {
        "field": "subject",
        "value": "The signed proposal",
        "source": "",
        "span": _span("<signed> proposal"),
        "confidence": 0.81,
    },
    {
        "field": "amount",
        "value": "4800.00",
        "source": "The budget is 4 800 EUR.",
        "span": _span("4 800 EUR"),
        "confidence": 0.6,
    },
]


def email_payload(n: int = 0) -> dict:
    return {
        "to": [ANNA],
        "cc": [],
        "subject": f"The signed proposal #{n}",
        "body": "Hello Anna,\n\nHere is the signed proposal, as promised.\n\n"
        "https://client-with-a-very-long-domain.example/projects/2025/website-redesign/proposal-signed.pdf"
        "\n\nBest,\nSam",
        "in_reply_to": "",
        "references": "",
    }


def _rows(n: int, *, kind: str, payload: dict | None, with_source: bool, created_at=None):
    task = Task(
        id=uuid.uuid4(),
        workflow="email.send",
        status=Task.Status.WAITING_APPROVAL,
        idempotency_key=f"approval-test-{uuid.uuid4()}",
        input={},
        requested_by_kind=Task.Requester.SYSTEM,
        requested_by_ref="test",
        attempts=1,
    )
    action = Action(
        task=task,
        step="compose",
        kind=kind,
        payload=payload if payload is not None else email_payload(n),
        summary=f"Email {ANNA}: The signed proposal #{n}",
        idempotency_key=f"{task.id}:compose:0",
        decision="ask",
        decision_reason=REASON,
        agent="mail_composer",
        agent_version="1",
        confidence=0.88,
        inferred=INFERRED if with_source else [],
        source={"type": "message", "id": 12, "text": SOURCE_TEXT} if with_source else {},
    )
    approval = ApprovalRequest(
        action=action,
        task=task,
        reason=REASON,
        policies=POLICIES,
        floors=["new_recipient"],
        urgency=2,
        expires_at=timezone.now() + dt.timedelta(hours=72),
    )
    return task, action, approval


def pending_approvals(
    count: int, *, kind: str = "email.send", payload: dict | None = None, with_source: bool = True
) -> list[ApprovalRequest]:
    """`count` pending requests, each with its own waiting task and proposed action."""
    rows = [_rows(n, kind=kind, payload=payload, with_source=with_source) for n in range(count)]
    Task.objects.bulk_create([task for task, _, _ in rows])
    actions = Action.objects.bulk_create([action for _, action, _ in rows])
    for (_, _, approval), action in zip(rows, actions, strict=True):
        approval.action = action
    return ApprovalRequest.objects.bulk_create([approval for _, _, approval in rows])


def pending_approval(**kwargs) -> ApprovalRequest:
    """One pending request with a source, inferred fields, a memory recall and two LLM calls."""
    (approval,) = pending_approvals(1, **kwargs)
    MemoryRecall.objects.create(
        task=approval.task,
        step="compose",
        query="Anna proposal signed",
        mode="balanced",
        k=8,
        results=[
            {
                "item": 1,
                "score": 0.83,
                "tier": "working",
                "kind": "message",
                "text": "Anna prefers the proposal as a PDF link, not an attachment.",
            },
            {
                "item": 2,
                "score": 0.51,
                "tier": "canonical",
                "kind": "note",
                "text": "Budget agreed: 4 800 EUR.",
            },
        ],
    )
    for n, cost in enumerate(("0.001200", "0.000300")):
        LLMCall.objects.create(
            task=approval.task,
            step="compose",
            agent="mail_composer",
            model="gpt-test-mini",
            tier="fast",
            prompt_hash=f"{n:064d}",
            tokens_in=100,
            tokens_out=50,
            cost=Decimal(cost),
        )
    return approval
