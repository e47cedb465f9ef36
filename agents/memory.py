"""Memory for agents: recall through the context, and the agents of the memory workflows.

`MemoryAccess` is what `ctx.memory` holds inside a task: recall scoped to a client or project (each
call recorded against the task and step, so the task page shows which memory was used) and
embeddings of texts. During a replay it answers from the task's recorded recalls instead.

The agents here only read and propose; `memory.*` actions are committed by the ledger
(`ledger.commit`), always automatically (they change no business record and reach nobody outside).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from agents.kernel import Agent, AgentContext, AgentResult, ProposedAction, agent_register


def _model_or_none(model, value):
    if value is None or isinstance(value, model):
        return value
    return model.objects.get(pk=value)


class MemoryAccess:
    def __init__(self, *, task: Any, step: str, replay: bool = False) -> None:
        self.task, self.step, self.replay = task, step, replay
        self._replayed = None

    def recall(
        self,
        *,
        query: str,
        client: Any = None,
        project: Any = None,
        tiers: tuple[str, ...] = ("session", "working", "canonical"),
        mode: str = "recall",
        k: int = 8,
    ) -> list[dict[str, Any]]:
        """The k best memories for `query` as plain dicts (item id, text, kind, tier, score…)."""
        if self.replay:
            return self._replay_next(query)
        from core.memory.services import memory_recall
        from core.models import Client, Project

        found = memory_recall(
            query=query,
            client=_model_or_none(Client, client),
            project=_model_or_none(Project, project),
            tiers=tiers,
            mode=mode,
            k=k,
            task=self.task,
            step=self.step,
        )
        return [recalled.as_dict() | {"text": recalled.item.text} for recalled in found]

    def _replay_next(self, query: str) -> list[dict[str, Any]]:
        from core.models import MemoryItem

        if self._replayed is None:
            self._replayed = list(
                self.task.memory_recalls.filter(step=self.step).order_by("created_at", "pk")
            )
        if not self._replayed:
            raise LookupError(f"replay: no recorded recall left for step {self.step!r} ({query!r})")
        recorded = self._replayed.pop(0)
        texts = dict(
            MemoryItem.objects.filter(pk__in=[r["item"] for r in recorded.results]).values_list("pk", "text")
        )
        return [r | {"text": texts.get(r["item"], r["text"])} for r in recorded.results]

    def embed(self, texts: list[str]) -> np.ndarray:
        from core.memory import embeddings

        return embeddings.embed_texts(texts)


# --- memory.capture -------------------------------------------------------------------------


class CaptureInput(BaseModel):
    source: str = Field(description="app_label.model of the record, e.g. core.message")
    id: int


class CaptureOutput(BaseModel):
    source: str
    id: int
    found: bool
    kind: str = ""
    tier: str = ""
    client: int | None = None
    project: int | None = None
    importance: float = 0.5
    chunks: list[str] = []


@agent_register
class MemoryReader(Agent):
    name = "memory_reader"
    version = "1"
    description = (
        "Reads a record (message, proposal, decision, note, file) and cuts what it says into memory chunks."
    )
    Input = CaptureInput
    Output = CaptureOutput

    def run(self, ctx: AgentContext, input: CaptureInput) -> AgentResult:  # noqa: A002
        from core.memory.capture import capture_of, source_get

        record = source_get(label=input.source, pk=input.id)
        if record is None:
            return AgentResult(output=CaptureOutput(source=input.source, id=input.id, found=False))
        capture = capture_of(record)
        output = CaptureOutput(
            source=input.source,
            id=input.id,
            found=True,
            kind=capture.kind,
            tier=capture.tier,
            client=capture.client_id,
            project=capture.project_id,
            importance=capture.importance,
            chunks=capture.chunks,
        )
        actions = []
        if capture.chunks:
            actions.append(
                ProposedAction(
                    kind="memory.store",
                    payload=output.model_dump(mode="json"),
                    summary=f"Remember {len(capture.chunks)} chunk(s) of {input.source} #{input.id}",
                )
            )
        return AgentResult(output=output, actions=actions)


# --- memory.compress ------------------------------------------------------------------------


class CompressItem(BaseModel):
    id: int
    text: str
    created_at: str = ""


class CompressInput(BaseModel):
    client: int | None = None
    project: int | None = None
    items: list[CompressItem] = Field(min_length=2)


class CompactorInput(BaseModel):
    items: list[CompressItem] = Field(min_length=2)
    summary: str = Field(min_length=1)
    key_points: list[str] = []


class CompactorOutput(BaseModel):
    summary: str
    items: list[int]


def compress_text(items: list[CompressItem]) -> str:
    """The items as one text for the summariser, oldest first, one paragraph each."""
    return "\n\n".join(item.text for item in items)


def compress_sentences(count: int) -> int:
    # About one sentence per three originals, within 3..8: short enough to be a summary.
    return max(3, min(8, (count + 2) // 3))


@agent_register
class MemoryCompactor(Agent):
    name = "memory_compactor"
    version = "1"
    description = "Turns a summary of old memories into one summary memory that supersedes them."
    Input = CompactorInput
    Output = CompactorOutput

    def run(self, ctx: AgentContext, input: CompactorInput) -> AgentResult:  # noqa: A002
        dates = sorted(item.created_at[:10] for item in input.items if item.created_at)
        span = f" ({dates[0]} to {dates[-1]})" if dates else ""
        points = [point.strip() for point in input.key_points if point.strip()]
        body = " ".join(points) if points else input.summary.strip()
        text = f"Summary of {len(input.items)} earlier memories{span}: {body}"
        ids = [item.id for item in input.items]
        return AgentResult(
            output=CompactorOutput(summary=text, items=ids),
            actions=[
                ProposedAction(
                    kind="memory.compress",
                    payload={"items": ids, "summary": text},
                    summary=f"Replace {len(ids)} old memories by one summary",
                )
            ],
        )


# --- memory.maintain ------------------------------------------------------------------------


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
        from django.utils.dateparse import parse_datetime

        from core.memory import services
        from ledger.policy import retention_rules_from_policies

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
