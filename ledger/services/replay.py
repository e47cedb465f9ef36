"""Replay: re-run a finished task on its record, to see whether the agents still do the same."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from agents import kernel
from ledger.llm import LLMGateway
from ledger.memory_access import MemoryAccess
from ledger.models import Task, TaskEvent
from ledger.scoping import recorded_scope
from ledger.services.events import task_event


@dataclass
class ReplayReport:
    task_id: str
    matches: bool
    steps: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "matches": self.matches, "steps": self.steps}


def task_replay(*, task: Task) -> ReplayReport:
    """Re-run a finished task's steps on its recorded input and recorded LLM answers.

    Nothing is written but one `replayed` event: proposals are compared, never stored or committed, and
    the gateway answers from the task's recorded calls without reaching any model.
    """

    task = Task.objects.get(pk=task.pk)
    if task.status != Task.Status.SUCCEEDED:
        raise ValidationError({"status": "Only a succeeded task has a complete record to replay."})
    definition = kernel.workflow_get(task.workflow)
    recorded = (task.output or {}).get("steps", {})
    recorded_actions = {}
    for action in task.actions.order_by("id"):
        recorded_actions.setdefault(action.step, []).append({"kind": action.kind, "payload": action.payload})
    outputs: dict[str, Any] = {}
    report: dict[str, dict[str, Any]] = {}
    for step in definition.steps:
        agent_class = kernel.agent_get(step.agent)
        agent_input = agent_class.Input.model_validate(step.input(task.input, outputs))
        scope = recorded_scope(task=task, step=step.name, definition=definition)
        ctx = kernel.AgentContext(
            task_id=str(task.pk),
            workflow=task.workflow,
            step=step.name,
            attempt=task.attempts,
            mode="replay",
            llm=LLMGateway(task=task, step=step.name, agent=agent_class.name, replay=True),
            memory=MemoryAccess(task=task, step=step.name, scope=scope, replay=True),
            scope=scope,
        )
        result = agent_class().run(ctx, agent_input)
        output = result.output.model_dump(mode="json")
        outputs[step.name] = output
        actions = [{"kind": a.kind, "payload": a.payload} for a in result.actions]
        report[step.name] = {
            "output_matches": output == recorded.get(step.name),
            "actions_match": actions == recorded_actions.get(step.name, []),
        }
    matches = all(entry["output_matches"] and entry["actions_match"] for entry in report.values())
    task_event(task=task, kind=TaskEvent.Kind.REPLAYED, data={"matches": matches, "steps": report})
    return ReplayReport(task_id=str(task.pk), matches=matches, steps=report)
