"""The ledger's own agents: they read the ledger itself, so they live here, not in agents/.

- `ApprovalDigest`: the daily email to the operator — what waits for approval, what was dead-lettered.
- `RecordReverter`: reads a committed change's history and proposes putting the records back.
- `CostReporter`: one day's LLM spend per agent and model, as its output (reads, never writes).
- `MemoryJanitor`: which memories the retention policies and expiry say must go (reads ledger.policy).

Like every agent they only propose (an email to the operator's own address, `record.revert`,
`memory.expire`/`memory.retain`); the ledger commits.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from pydantic import BaseModel, Field

from agents.kernel import Agent, AgentContext, AgentResult, ProposedAction, agent_register
from agents.operator import operator_email
from core import services as core_services
from core.memory import services as memory_services
from ledger import selectors
from ledger.policy import retention_rules_from_policies


class DigestInput(BaseModel):
    day: str


class DigestOutput(BaseModel):
    waiting: int
    dead_letters: int
    sent: bool


@agent_register
class ApprovalDigest(Agent):
    name = "approval_digest"
    version = "1"
    description = "Lists what waits for the operator and what was dead-lettered, as one email a day."

    def run(self, ctx: AgentContext, input: DigestInput) -> AgentResult[DigestOutput]:  # noqa: A002
        waiting = list(selectors.approval_queue()[:50])
        waiting_total = selectors.approval_queue().count()
        dead = selectors.dead_letters(limit=20)
        if not waiting and not dead:
            return AgentResult(output=DigestOutput(waiting=0, dead_letters=0, sent=False))
        site = settings.SITE_URL
        lines = [f"Waiting for you ({waiting_total}), most urgent first:", ""]
        for approval in waiting:
            action = approval.action
            expires = approval.expires_at.strftime("%Y-%m-%d %H:%M")
            lines.append(f"- {action.summary or action.kind} (expires {expires})")
            lines.append(f"  {site}{reverse('approvals:detail', args=[approval.pk])}")
        if waiting_total > len(waiting):
            lines.append(f"... and {waiting_total - len(waiting)} more: {site}{reverse('approvals:list')}")
        if dead:
            lines += ["", f"Dead letters ({len(dead)}): retry or discard them.", ""]
            for task in dead:
                lines.append(f"- {task.workflow}: {task.last_error[:120] or 'gave up'}")
                lines.append(f"  {site}{reverse('ledger:task', args=[task.pk])}")
        to = operator_email()
        subject = f"[AIOS] {waiting_total} waiting for approval, {len(dead)} dead letters ({input.day})"
        return AgentResult(
            output=DigestOutput(waiting=waiting_total, dead_letters=len(dead), sent=True),
            actions=[
                ProposedAction(
                    kind="email.send",
                    payload={"to": [to], "subject": subject, "body": "\n".join(lines) + "\n"},
                    summary=f"Digest to the operator ({input.day})",
                )
            ],
        )


class RevertInput(BaseModel):
    action_id: int


class RevertChange(BaseModel):
    model: str
    pk: int
    history_id: int
    restore: dict


class RevertOutput(BaseModel):
    action_id: int
    changes: list[RevertChange]


@agent_register
class RecordReverter(Agent):
    name = "record_reverter"
    version = "1"
    description = "Reads a committed change's history and proposes putting the records back."

    def run(self, ctx: AgentContext, input: RevertInput) -> AgentResult[RevertOutput]:  # noqa: A002
        action = selectors.action_get(action_id=input.action_id)
        changes, proposals = [], []
        for change in (action.result or {}).get("changes", []):
            before, after = core_services.record_version_fields(
                label=change["model"], history_id=change["history_id"]
            )
            restore = {field: before.get(field) for field in after if before.get(field) != after[field]}
            changes.append(
                RevertChange(
                    model=change["model"], pk=change["pk"], history_id=change["history_id"], restore=restore
                )
            )
            fields = ", ".join(f"{field} → {value!r}" for field, value in restore.items()) or "no field"
            proposals.append(
                ProposedAction(
                    kind="record.revert",
                    payload={
                        "action_id": action.pk,
                        "model": change["model"],
                        "pk": change["pk"],
                        "history_id": change["history_id"],
                    },
                    summary=f"Revert {change['model']} #{change['pk']}: {fields}"[:500],
                )
            )
        return AgentResult(output=RevertOutput(action_id=action.pk, changes=changes), actions=proposals)


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

    def run(self, ctx: AgentContext, input: CostReportInput) -> AgentResult[CostReport]:  # noqa: A002
        zone = ZoneInfo(settings.TIME_ZONE)
        since = dt.datetime.combine(input.day, dt.time.min, tzinfo=zone)
        summary = selectors.llm_cost_summary(since=since, until=since + dt.timedelta(days=1))
        return AgentResult(output=CostReport(day=input.day, **summary))


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

    def run(self, ctx: AgentContext, input: MaintainInput) -> AgentResult[MaintainOutput]:  # noqa: A002
        now = parse_datetime(input.now)
        rules = retention_rules_from_policies()
        expired = memory_services.memory_expiring(now=now).count()
        retained = memory_services.memory_retention_due(now=now, rules=rules).count()
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
