"""Report agents: they read the ledger (never write) and return a report as their output.

In the ledger because they read it; the agent layer below may not."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from pydantic import BaseModel

from agents.kernel import Agent, AgentContext, AgentResult, agent_register
from ledger.selectors import llm_cost_summary


class CostReportInput(BaseModel):
    day: dt.date


class CostLine(BaseModel):
    name: str
    cost: str
    calls: int


class CostReport(BaseModel):
    day: dt.date
    currency: str = "USD"
    cost: str
    calls: int
    tokens_in: int
    tokens_out: int
    tasks: int
    by_agent: list[CostLine]
    by_model: list[CostLine]


@agent_register
class CostReporter(Agent):
    name = "cost_reporter"
    version = "1"
    description = "Sums one day's LLM spend per agent and model, and the tasks created that day."
    Input = CostReportInput
    Output = CostReport

    def run(self, ctx: AgentContext, input: CostReportInput) -> AgentResult:  # noqa: A002
        zone = ZoneInfo(settings.TIME_ZONE)
        since = dt.datetime.combine(input.day, dt.time.min, tzinfo=zone)
        summary = llm_cost_summary(since=since, until=since + dt.timedelta(days=1))
        return AgentResult(output=CostReport(day=input.day, **summary))
