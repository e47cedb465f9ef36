"""The intake value stream's reader and coordinator (DESIGN §3, the intake issue).

`intake_reader` turns a stored inbound message into what the intake agent reads: the new text of the
mail (quoted history and forwarded blocks apart), its headers and the workspace's service catalogue.
`coordinator` routes by the intake's intent: new inquiries to an estimate and a proposal, project
changes to a summary and a change estimate for the operator, billing and scheduling mail to a draft
reply, everything else filed; low confidence anywhere sends the mail to review with what was found.
Neither writes anything: the proposal writer proposes, the ledger decides.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from agents.kernel import Agent, AgentContext, AgentResult, agent_register

# Below this confidence of the intake's intent (or of the estimate) the operator reviews the mail.
REVIEW_BELOW = 0.5


class ReadInput(BaseModel):
    message_id: int  # core.Message primary key


class ServiceEntry(BaseModel):
    key: str
    name: str
    description: str = ""
    unit: str = ""
    unit_price: str = ""
    currency: str = ""
    min_units: str = "1"


class MailRead(BaseModel):
    message_pk: int
    conversation_id: int
    client_id: int | None
    message_id: str
    references: str
    received_at: str
    from_email: str
    from_name: str
    subject: str
    date: str | None
    new_text: str
    quoted_text: str
    is_auto_reply: bool
    is_bounce: bool
    headers: dict[str, str] = {}
    services: list[ServiceEntry]


def _split(message) -> dict[str, Any]:
    """New text and flags from the raw mail when the connectors kept it, else from the stored body."""
    from connectors import selectors as connector_selectors
    from connectors.mime import parse_message

    raw = connector_selectors.raw_for_message(message_pk=message.pk)
    if raw is not None:
        parsed = parse_message(raw)
        if not parsed.fatal:
            return {
                "new_text": parsed.new_text or parsed.text,
                "quoted_text": parsed.quoted_text,
                "is_auto_reply": parsed.is_auto_reply,
                "is_bounce": parsed.is_bounce,
                "headers": dict(parsed.headers),
                "date": parsed.date.isoformat() if parsed.date else None,
            }
    return {
        "new_text": message.body_text,
        "quoted_text": "",
        "is_auto_reply": False,
        "is_bounce": False,
        "date": message.sent_at.isoformat() if message.sent_at else None,
    }


@agent_register
class IntakeReader(Agent):
    name = "intake_reader"
    version = "1"
    description = "Reads an inbound message: its new text apart from quoted history, and the catalogue."
    Input = ReadInput
    Output = MailRead

    def run(self, ctx: AgentContext, input: ReadInput) -> AgentResult:  # noqa: A002
        from core import selectors as core_selectors

        message = core_selectors.message_for_intake(message_pk=input.message_id)
        parts = _split(message)
        own = f"<{message.message_id}>" if message.message_id else ""
        references = " ".join(part for part in (message.references, own) if part)
        return AgentResult(
            output=MailRead(
                message_pk=message.pk,
                conversation_id=message.conversation_id,
                client_id=message.conversation.client_id,
                message_id=f"<{message.message_id}>" if message.message_id else "",
                references=references,
                received_at=message.created_at.isoformat(),
                from_email=message.from_email,
                from_name=message.from_name,
                subject=message.subject,
                services=[ServiceEntry(**entry) for entry in core_selectors.service_catalogue()],
                **parts,
            )
        )


class RouteInput(BaseModel):
    read: MailRead
    intake: dict[str, Any]


class Route(BaseModel):
    route: str  # proposal, change, billing, scheduling, filed, review
    intent: str
    confidence: float
    reasons: list[str]


def _confidence(intake: dict[str, Any], field: str, default: float = 0.8) -> float:
    evidence = (intake.get("evidence") or {}).get(field) or {}
    value = evidence.get("confidence")
    return float(value) if isinstance(value, int | float) else default


def route_for(*, read: MailRead, intake: dict[str, Any]) -> Route:
    intent = intake.get("intent") or "other"
    confidence = _confidence(intake, "intent")
    reasons = [f"Intent {intent} (confidence {confidence:.0%})."]
    if read.is_auto_reply or read.is_bounce:
        return Route(
            route="filed",
            intent=intent,
            confidence=1.0,
            reasons=["An automatic reply or a bounce: filed, never answered."],
        )
    if intent == "other":
        reasons.append("Filed, no reply.")
        return Route(route="filed", intent=intent, confidence=confidence, reasons=reasons)
    if confidence < REVIEW_BELOW:
        return Route(
            route="review",
            intent=intent,
            confidence=confidence,
            reasons=[*reasons, f"Below {REVIEW_BELOW:.0%}: the operator reviews what was found."],
        )
    if intent == "new_inquiry":
        if not intake.get("services"):
            return Route(
                route="review",
                intent=intent,
                confidence=confidence,
                reasons=[*reasons, "No service of the catalogue was recognised: nothing to price."],
            )
        return Route(route="proposal", intent=intent, confidence=confidence, reasons=reasons)
    routes = {"project_change": "change", "billing": "billing", "scheduling": "scheduling"}
    route = routes.get(intent, "review")
    return Route(route=route, intent=intent, confidence=confidence, reasons=reasons)


@agent_register
class Coordinator(Agent):
    name = "coordinator"
    version = "1"
    description = "Routes an inbound mail by intent: proposal, change brief, draft reply, filed or review."
    Input = RouteInput
    Output = Route

    def run(self, ctx: AgentContext, input: RouteInput) -> AgentResult:  # noqa: A002
        return AgentResult(output=route_for(read=input.read, intake=input.intake))
