"""The pieces every draft shares: an action of the route with its evidence, a reply in the mail's
thread (greeting, signature, the workspace's template when it has one), and the review item."""

from __future__ import annotations

from typing import Any

from django.template import Context, Template

from agents.intake import CONTRACT_FIELDS, MailRead
from agents.kernel import InferredField, ProposedAction, Scope
from agents.proposal_writer.evidence import inferred_fields, mail_source
from agents.proposal_writer.schemas import WriteInput
from core import workspace_data


def proposed(
    input: WriteInput,  # noqa: A002
    *,
    kind: str,
    payload: dict[str, Any],
    summary: str,
    confidence: float | None = None,
    inferred: list[InferredField] | None = None,
    source: dict[str, Any] | None = None,
    **money: Any,
) -> ProposedAction:
    """An action answering the mail: unless given, the route's confidence, the intake's inferred fields
    and the mail as its source."""
    return ProposedAction(
        kind=kind,
        payload=payload,
        summary=summary,
        confidence=input.route.confidence if confidence is None else confidence,
        inferred=inferred_fields(input.intake) if inferred is None else inferred,
        source=mail_source(input.read) if source is None else source,
        **money,
    )


def reply_subject(subject: str) -> str:
    subject = (subject or "").strip() or "your message"
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def thread(read: MailRead) -> dict[str, Any]:
    return {
        "to": [read.from_email],
        "in_reply_to": read.message_id,
        "references": read.references,
        "conversation_id": read.conversation_id,
    }


def render(template_key: str, context: dict[str, Any], fallback_subject: str, fallback_body: str):
    template = workspace_data.action_template_get(key=template_key)
    if template is None:
        return fallback_subject, fallback_body
    rendered = Context(context, autoescape=False)  # plain-text mail: "Vos & Partners" stays as written
    subject = Template(template.subject).render(rendered).strip() or fallback_subject
    return subject, Template(template.body).render(rendered)


def letter(read: MailRead, text: str) -> str:
    """A reply's body: the greeting, `text`, and the operator's signature."""
    workspace = workspace_data.workspace_identity()
    return (
        f"Hello {read.from_name or ''},\n\n{text}\n\n"
        f"Best regards,\n{workspace['operator_name']}\n{workspace['name']}\n"
    )


def reply(
    input: WriteInput,  # noqa: A002
    *,
    body: str,
    summary: str,
    template: str = "",
    **evidence: Any,
) -> ProposedAction:
    """An email answering the mail in its thread; the workspace's `template`, when it has one, writes it."""
    read = input.read
    subject = reply_subject(read.subject)
    if template:
        context = {"client_name": read.from_name or "", "workspace": workspace_data.workspace_identity()}
        subject, body = render(template, context, subject, body)
    return proposed(
        input,
        kind="email.send",
        payload={**thread(read), "subject": subject, "body": body},
        summary=summary,
        **evidence,
    )


def review(
    input: WriteInput,  # noqa: A002
    scope: Scope | None = None,
    why: str = "",
    other_clients: list[Any] = (),
) -> list[ProposedAction]:
    read = input.read
    reasons = [*input.route.reasons, *([why] if why else [])]
    return [
        proposed(
            input,
            kind="intake.review",
            payload={
                "message_id": read.message_pk,
                "client_id": read.client_id,
                "title": f"Reviewed mail from {read.from_email}: {read.subject}"[:300],
                "found": {key: input.intake.get(key) for key in CONTRACT_FIELDS if key != "sender_email"},
                "reasons": reasons,
            },
            summary=f"Review: {read.subject or read.from_email}"[:500],
            source=mail_source(read, other_clients),
        )
    ]
