"""The ports an agent's context holds. The ledger binds implementations to each running task step.

Agents see only these shapes, so the agent layer needs nothing above it: the LLM gateway (which records
calls, costs and budgets on the task) and memory access (which records every recall on the task) live in
the ledger (docs/adr/0009-layers-and-ports.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

SchemaT = TypeVar("SchemaT", bound=BaseModel)


@dataclass(frozen=True)
class StructuredResult:
    value: BaseModel
    tier_used: str  # "rules", "fast" or "quality"
    model: str | None  # None when the value came from rules
    cache_hit: bool
    call_id: int | None  # the LLMCall row that decided the value (None only without a task record)
    fell_back: bool  # the model was asked but the value came from rules


class LLM(Protocol):
    def structured(
        self,
        *,
        tier: str,
        messages: list[dict[str, Any]],
        schema: type[SchemaT],
        rules: Callable[[], SchemaT] | None = None,
    ) -> StructuredResult:
        """A `schema` instance from the tier's model, or from `rules` when the model cannot give one.

        Raises NeedsReview, BudgetDeferred or LLMUnavailable (agents.kernel.errors) when neither can."""
        ...


class Memory(Protocol):
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
        ...

    def embed(self, texts: Sequence[str]) -> Any:
        """Embeddings of `texts` as one array, a row per text."""
        ...
