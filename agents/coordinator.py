"""The intake value stream's coordinator (DESIGN §3, the intake issue).

`coordinator` routes by the intake's intent: new inquiries to an estimate and a proposal, project
changes to a summary and a change estimate for the operator, billing and scheduling mail to a draft
reply, everything else filed; low confidence anywhere (an unsure "other" too), calendar invitations and
mail that is only images send the mail to review with what was found.
It writes nothing: the proposal writer proposes, the ledger decides. The reader before it is
`agents.intake.reader`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from agents.intake.reader import MailRead
from agents.kernel import Agent, AgentContext, AgentResult, agent_register

# Below this confidence of the intake's intent (or of the estimate) the operator reviews the mail.
REVIEW_BELOW = 0.5


class RouteInput(BaseModel):
    read: MailRead
    intake: dict[str, Any]


class Route(BaseModel):
    route: str  # proposal, change, acceptance, decline, payment, billing, scheduling, filed, review
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

    def routed(route: str, *why: str) -> Route:
        return Route(route=route, intent=intent, confidence=confidence, reasons=[*reasons, *why])

    # Mail no rule can answer well goes to the operator instead of being filed unseen: an invitation
    # asks for a decision about the operator's time, images carry no text the rules can read, and an
    # intent the intake is unsure of (also "other") may be anything.
    if read.is_calendar:
        return routed("review", "A calendar invitation: you decide whether to accept it; nothing is sent.")
    if read.is_image_only:
        return routed("review", "Only images, no text: there is nothing the rules can read.")
    if confidence < REVIEW_BELOW:
        return routed("review", f"Below {REVIEW_BELOW:.0%}: the operator reviews what was found.")
    if intent == "other":
        return routed("filed", "Filed, no reply.")
    if (intake.get("evidence") or {}).get("risk"):
        return routed(
            "review", "It asks to change bank details or speaks to an AI: only the operator answers it."
        )
    if intent == "new_inquiry":
        if not intake.get("services"):
            return routed("review", "No service of the catalogue was recognised: nothing to price.")
        return routed("proposal")
    routes = {
        "project_change": "change",
        "acceptance": "acceptance",
        "decline": "decline",
        "payment_notice": "payment",
        "billing": "billing",
        "scheduling": "scheduling",
    }
    return routed(routes.get(intent, "review"))


@agent_register
class Coordinator(Agent):
    name = "coordinator"
    version = "1"
    description = "Routes an inbound mail by intent: proposal, change brief, draft reply, filed or review."

    def run(self, ctx: AgentContext, input: RouteInput) -> AgentResult[Route]:  # noqa: A002
        return AgentResult(output=route_for(read=input.read, intake=input.intake))
