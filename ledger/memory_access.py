"""`ctx.memory` inside a task: the ledger's implementation of the agent kernel's Memory port.

Recall is scoped to a client or project, and each call is recorded against the task and step (so the task
page shows which memory was used); embeddings of texts for agents that compare meaning. During a replay it
answers from the task's recorded recalls instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from core.memory import embeddings
from core.memory.services import memory_recall
from core.models import Client, MemoryItem, Project


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

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return embeddings.embed_texts(texts)
