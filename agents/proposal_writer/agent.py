"""The registered proposal writer: the coordinator's route picks what it drafts."""

from __future__ import annotations

from agents.kernel import Agent, AgentContext, AgentResult, agent_register
from agents.proposal_writer import answers, billing, proposal
from agents.proposal_writer.drafts import review
from agents.proposal_writer.schemas import WriteInput, Written

ROUTES = {
    "proposal": proposal.proposal,
    "payment": billing.payment,
    "acceptance": answers.acceptance,
    "decline": answers.decline,
    "change": proposal.change,
    "billing": billing.billing,
    "scheduling": answers.scheduling,
    "review": review,
}


@agent_register
class ProposalWriter(Agent):
    name = "proposal_writer"
    version = "1"
    description = "Writes the proposal and cover reply, a change brief, a draft reply, or a review item."

    def run(self, ctx: AgentContext, input: WriteInput) -> AgentResult[Written]:  # noqa: A002
        scope = ctx.client_scope("The proposal writer")
        write = ROUTES.get(input.route.route)
        actions = write(input, scope) if write else []
        return AgentResult(
            output=Written(
                route=input.route.route,
                actions=[action.kind for action in actions],
                summary="; ".join(input.route.reasons),
            ),
            actions=actions,
        )
