"""Agents that prepare outgoing email. They only propose `email.send`; the ledger decides and sends."""

from __future__ import annotations

from typing import Any

from django.template import Context, Template
from pydantic import BaseModel, EmailStr, Field

from agents.kernel import Agent, AgentContext, AgentResult, ProposedAction, agent_register
from core import workspace_data


def template_text(
    *, key: str, fallback_subject: str, fallback_body: str, context: dict[str, Any]
) -> tuple[str, str]:
    """The action template `key` rendered with `context` (Django template syntax, no HTML escaping: it is
    plain-text mail); the fallback text where the workspace has no active template of that key or leaves
    a part empty. The subject comes out on one line."""
    template = workspace_data.action_template_get(key=key)
    subject, body = fallback_subject, fallback_body
    if template is not None:
        subject, body = template.subject or subject, template.body or body
    rendered = Context(context, autoescape=False)
    return " ".join(Template(subject).render(rendered).split()), Template(body).render(rendered)


def thread_headers(*, message_id: str, references: str) -> tuple[str, str]:
    """(In-Reply-To, References) of an answer to the message `message_id` (bare, without <>) whose own
    References were `references`; empty when there is nothing to answer."""
    in_reply_to = f"<{message_id}>" if message_id else ""
    return in_reply_to, " ".join(part for part in (references, in_reply_to) if part)


class MailInput(BaseModel):
    to: list[EmailStr] = Field(min_length=1)
    cc: list[EmailStr] = []
    subject: str = ""
    body: str = ""
    # An ActionTemplate key: its subject and body are rendered with `context` (Django template syntax).
    template: str | None = None
    context: dict[str, Any] = {}
    in_reply_to: str = ""
    references: str = ""


class MailDraft(BaseModel):
    to: list[str]
    cc: list[str]
    subject: str
    body: str


@agent_register
class MailComposer(Agent):
    name = "mail_composer"
    version = "1"
    description = "Writes an email from a template or given text and proposes sending it."

    def run(self, ctx: AgentContext, input: MailInput) -> AgentResult[MailDraft]:  # noqa: A002
        subject, body = input.subject, input.body
        if input.template:
            template = workspace_data.action_template_get(key=input.template)
            if template is None:
                raise LookupError(f"No active action template {input.template!r}")
            # Plain-text mail: nothing to escape, and "Vos & Partners" must stay as written.
            context = Context(input.context, autoescape=False)
            subject = Template(template.subject).render(context).strip()
            body = Template(template.body).render(context)
        if not subject.strip() or not body.strip():
            raise ValueError("An email needs a subject and a body (given or from a template).")
        draft = MailDraft(
            to=[str(a).lower() for a in input.to],
            cc=[str(a).lower() for a in input.cc],
            subject=subject.strip(),
            body=body,
        )
        action = ProposedAction(
            kind="email.send",
            payload={**draft.model_dump(), "in_reply_to": input.in_reply_to, "references": input.references},
            summary=f"Email {', '.join(draft.to)}: {draft.subject}"[:500],
        )
        return AgentResult(output=draft, actions=[action])


class PingInput(BaseModel):
    payload: dict[str, Any] = {}


@agent_register
class Echo(Agent):
    """The ledger's health check: a round trip through claim, step, events and commit with no effect."""

    name = "echo"
    version = "1"
    description = "Returns its input unchanged (ledger health check and benchmark)."

    def run(self, ctx: AgentContext, input: PingInput) -> AgentResult[PingInput]:  # noqa: A002
        return AgentResult(output=input)
