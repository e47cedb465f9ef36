"""Agents over the ledger's own state, for the operator: the daily approval digest, and reverting a change.

They live in the ledger (not in agents/) because their input is the ledger itself — what waits, what was
dead-lettered, what a committed action changed — and the agent layer may not read the ledger. Like every
agent they only propose: an email to the operator's own address, or `record.revert` actions.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from pydantic import BaseModel

from agents.kernel import Agent, AgentContext, AgentResult, ProposedAction, agent_register
from agents.operator import operator_email
from core import services as core_services
from ledger import selectors


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
    Input = DigestInput
    Output = DigestOutput

    def run(self, ctx: AgentContext, input: DigestInput) -> AgentResult:  # noqa: A002
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
    Input = RevertInput
    Output = RevertOutput

    def run(self, ctx: AgentContext, input: RevertInput) -> AgentResult:  # noqa: A002
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
