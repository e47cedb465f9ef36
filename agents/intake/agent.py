"""The registered intake agent: the `fast` tier when a model is configured, else (and whenever the model
cannot) the rules; mail that is never work never reaches a model. It proposes no actions."""

from __future__ import annotations

from agents.intake.extract import extract_rules, sources_of
from agents.intake.intent import hard_other
from agents.intake.prompt import checked, intake_messages
from agents.intake.schemas import IntakeFields, IntakeInput
from agents.kernel import Agent, AgentContext, AgentResult, agent_register


@agent_register
class IntakeAgent(Agent):
    name = "intake"
    version = "1"
    description = "Reads an inbound mail: intent, sender, company, budget, deadline and requested services."

    def run(self, ctx: AgentContext, input: IntakeInput) -> AgentResult[IntakeFields]:  # noqa: A002
        # Bounces, auto-replies, injections and payment-change phishing never reach a model.
        if hard_other(input, sources_of(input)) is not None:
            return AgentResult(output=extract_rules(input))
        result = ctx.llm.structured(
            tier="fast",
            messages=intake_messages(input),
            schema=IntakeFields,
            rules=lambda: extract_rules(input),
        )
        return AgentResult(output=checked(result.value, input))
