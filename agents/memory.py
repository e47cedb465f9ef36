"""The agents of the memory workflows: capture a record, compress old memories.

Recall through `ctx.memory` is the ledger's `ledger.memory_access.MemoryAccess`; the janitor that applies
the retention policies is the ledger's `ledger.housekeeping.agents`. The agents here only read and
propose; `memory.*` actions are committed by the ledger (`ledger.commit`), always automatically (they
change no business record and reach nobody outside).
"""

from __future__ import annotations

import dataclasses

from pydantic import BaseModel, Field

from agents.kernel import Agent, AgentContext, AgentResult, ProposedAction, agent_register
from core.memory.capture import capture_of, source_get

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
    untrusted: bool = False  # text from outside the business: remembered as data, never as instructions
    origin: str = ""


@agent_register
class MemoryReader(Agent):
    name = "memory_reader"
    version = "1"
    description = (
        "Reads a record (message, proposal, decision, note, file) and cuts what it says into memory chunks."
    )

    def run(self, ctx: AgentContext, input: CaptureInput) -> AgentResult[CaptureOutput]:  # noqa: A002
        record = source_get(label=input.source, pk=input.id)
        if record is None:
            return AgentResult(output=CaptureOutput(source=input.source, id=input.id, found=False))
        capture = capture_of(record)
        found = dataclasses.asdict(capture)
        output = CaptureOutput(
            source=input.source,
            id=input.id,
            found=True,
            client=found.pop("client_id"),
            project=found.pop("project_id"),
            **found,
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
    untrusted: bool = True  # unmarked memory is quoted to a model as untrusted data
    origin: str = ""


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

    def run(self, ctx: AgentContext, input: CompactorInput) -> AgentResult[CompactorOutput]:  # noqa: A002
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
