"""The memory janitor: which memories the retention policies and expiry say must go.

In the ledger because it reads the retention policies (ledger.policy); it only proposes the deletions
(`memory.expire`, `memory.retain`), which the ledger commits.
"""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from pydantic import BaseModel, Field

from agents.kernel import Agent, AgentContext, AgentResult, ProposedAction, agent_register
from core.memory import services
from ledger.policy import retention_rules_from_policies


class MaintainInput(BaseModel):
    now: str = Field(description="ISO timestamp the maintenance run counts ages from")


class MaintainOutput(BaseModel):
    now: str
    expired: int
    retention: dict[str, int]
    retained: int


@agent_register
class MemoryJanitor(Agent):
    name = "memory_janitor"
    version = "1"
    description = "Finds memories whose time is up (session expiry, retention) and proposes deleting them."
    Input = MaintainInput
    Output = MaintainOutput

    def run(self, ctx: AgentContext, input: MaintainInput) -> AgentResult:  # noqa: A002
        now = parse_datetime(input.now)
        rules = retention_rules_from_policies()
        expired = services.memory_expiring(now=now).count()
        retained = services.memory_retention_due(now=now, rules=rules).count()
        output = MaintainOutput(
            now=input.now,
            expired=expired,
            retention={f"{tier}.{kind}" if kind else tier: days for (tier, kind), days in rules.items()},
            retained=retained,
        )
        actions = []
        if expired:
            actions.append(
                ProposedAction(
                    kind="memory.expire",
                    payload={"now": input.now},
                    summary=f"Delete {expired} expired memories",
                )
            )
        if retained:
            actions.append(
                ProposedAction(
                    kind="memory.retain",
                    payload={"now": input.now, "retention": output.retention},
                    summary=f"Delete {retained} memories past their retention",
                )
            )
        return AgentResult(output=output, actions=actions)
