"""`ctx.memory` inside a task: the ledger's implementation of the agent kernel's Memory port.

Recall is bound to the step's client scope (core.scope.ClientScope): the scope's client's memory only,
and none at all for work that is for no client — a recall without a client would span every client's
memory and every stranger's mail (docs/adr/0013-client-scope.md). Each call is recorded against the task
and step (so the task page shows which memory was used); embeddings of texts for agents that compare
meaning. During a replay it answers from the task's recorded recalls instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core.memory import embeddings
from core.memory.services import memory_recall
from core.models import Client, MemoryItem, Project
from core.scope import ClientScope


def _model_or_none(model, value):
    if value is None or isinstance(value, model):
        return value
    return model.objects.get(pk=value)


def _as_dict(item: MemoryItem, data: dict[str, Any]) -> dict[str, Any]:
    return data | {"text": item.text, "untrusted": item.untrusted, "origin": item.origin}


class MemoryAccess:
    def __init__(
        self, *, task: Any, step: str, scope: ClientScope | None = None, replay: bool = False
    ) -> None:
        self.task, self.step, self.scope, self.replay = task, step, scope, replay
        self._replayed = None

    def recall(
        self,
        *,
        query: str,
        project: Any = None,
        tiers: tuple[str, ...] = ("session", "working", "canonical"),
        mode: str = "recall",
        k: int = 8,
    ) -> list[dict[str, Any]]:
        """The k best memories for `query` in the scope's client, as plain dicts (item id, text, kind,
        tier, score, untrusted, origin…); none when the scope has no client."""
        if self.scope is None or not self.scope.known:
            return []
        if self.replay:
            return self._replay_next(query)
        found = memory_recall(
            query=query,
            # A project of another client is refused by memory_recall (it checks the pair).
            client=Client.objects.get(pk=self.scope.memory_client_id()),
            project=_model_or_none(Project, project),
            tiers=tiers,
            mode=mode,
            k=k,
            task=self.task,
            step=self.step,
        )
        return [_as_dict(recalled.item, recalled.as_dict()) for recalled in found]

    def _replay_next(self, query: str) -> list[dict[str, Any]]:
        if self._replayed is None:
            self._replayed = list(
                self.task.memory_recalls.filter(step=self.step).order_by("created_at", "pk")
            )
        if not self._replayed:
            raise LookupError(f"replay: no recorded recall left for step {self.step!r} ({query!r})")
        recorded = self._replayed.pop(0)
        items = MemoryItem.objects.in_bulk([r["item"] for r in recorded.results])
        # An item forgotten since is answered from the recorded excerpt, still as untrusted data.
        return [
            _as_dict(items[r["item"]], r) if r["item"] in items else r | {"untrusted": True, "origin": ""}
            for r in recorded.results
        ]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return embeddings.embed_texts(texts)
