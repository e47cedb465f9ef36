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


# A port's `= ...` marks an argument callers may leave out; its default is the implementation's alone
# (ledger.llm.gateway, ledger.memory_access), so the two cannot drift apart.


class LLM(Protocol):
    def structured(
        self,
        *,
        tier: str,
        messages: list[dict[str, Any]],
        schema: type[SchemaT],
        rules: Callable[[], SchemaT] | None = ...,
    ) -> StructuredResult:
        """A `schema` instance from the tier's model, or from `rules` when the model cannot give one.

        Raises NeedsReview, BudgetDeferred or LLMUnavailable (agents.kernel.errors) when neither can."""
        ...


class Memory(Protocol):
    def recall(
        self,
        *,
        query: str,
        project: Any = ...,
        tiers: tuple[str, ...] = ...,
        mode: str = ...,
        k: int = ...,
    ) -> list[dict[str, Any]]:
        """The k best memories for `query` within the step's client scope, as plain dicts (item id, text,
        kind, tier, score, untrusted, origin…). Without a client in scope: none."""
        ...

    def embed(self, texts: Sequence[str]) -> Any:
        """Embeddings of `texts` as one array, a row per text."""
        ...


class Scope(Protocol):
    """Whose records a piece of work may read (core.scope.ClientScope): one client's, or none.

    Its reads return the scope's own records; another client's come back only as references (a link and
    figures) for the operator, never as text (docs/adr/0013-client-scope.md)."""

    client_id: int | None
    sender: str
    reason: str

    @property
    def known(self) -> bool: ...

    def as_dict(self) -> dict[str, Any]: ...

    def trigger_message(self) -> Any: ...

    def invoices_mentioned(self, *, text: str) -> Any: ...

    def similar_work(self, *, service_keys: list[str], limit: int = 3) -> list[Any]: ...

    def proposal_answered(self, *, subject: str) -> Any: ...

    def open_invoices_named(self, *, numbers: list[str]) -> list[Any]: ...

    def invoice_for_mail(self, *, invoice_id: int) -> Any: ...
