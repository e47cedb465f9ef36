"""The labelled recall set (tests/core/data/memory_recall_set.json) loaded into the workspace."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core import services
from core.memory import embeddings
from core.memory.services import memory_item_add
from core.models import Client, MemoryItem, Project

SET_PATH = Path(__file__).parent / "data" / "memory_recall_set.json"


@dataclass
class LoadedSet:
    data: dict
    clients: dict[str, Client]
    projects: dict[tuple[str, str], Project]
    items: dict[str, MemoryItem]  # set id -> stored item
    ids: dict[int, str]  # stored pk -> set id


def recall_set() -> dict:
    return json.loads(SET_PATH.read_text())


def recall_set_load(*, by) -> LoadedSet:
    data = recall_set()
    clients = {
        c["key"]: services.client_create(by=by, name=c["name"], email=c["email"]) for c in data["clients"]
    }
    projects: dict[tuple[str, str], Project] = {}
    provider = embeddings.embedding_provider()
    vectors = provider.embed([item["text"] for item in data["items"]])
    items: dict[str, MemoryItem] = {}
    for item, vector in zip(data["items"], vectors, strict=True):
        project = None
        if item["project"]:
            key = (item["client"], item["project"])
            if key not in projects:
                projects[key] = services.project_create(
                    client=clients[item["client"]], by=by, name=item["project"]
                )
            project = projects[key]
        stored, outcome = memory_item_add(
            text=item["text"],
            kind=item["kind"],
            client=clients[item["client"]],
            project=project,
            importance=item["importance"],
            embedding=vector,
            embedding_model=provider.name,
        )
        assert outcome == "created", (item["id"], outcome)
        items[item["id"]] = stored
    return LoadedSet(data, clients, projects, items, {item.pk: key for key, item in items.items()})
