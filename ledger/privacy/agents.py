"""The agents of the client-data workflows: they read what the workspace holds about the client and
propose the export or the erase, with the counts, so the operator approves knowing what it covers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from agents.kernel import Agent, AgentContext, AgentResult, NeedsReview, ProposedAction, agent_register
from core import privacy
from core.models import Client


class ClientDataInput(BaseModel):
    client_id: int


class ClientDataOutput(BaseModel):
    client_id: int
    holdings: dict[str, dict[str, int]]


def _client(client_id: int) -> Client:
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        raise NeedsReview(f"client #{client_id} does not exist")
    return client


def _counted(holdings: dict[str, dict[str, int]]) -> str:
    parts = [f"{count} {what}" for part in holdings.values() for what, count in part.items()]
    return ", ".join(parts) or "nothing"


def _propose(client_id: int, *, kind: str, summary: Callable[[Any, str], str]) -> AgentResult:
    """Count what the workspace holds about the client and propose `kind` for it, counts in the summary."""
    client = _client(client_id)
    holdings = privacy.client_data_inventory(client=client)
    return AgentResult(
        output=ClientDataOutput(client_id=client.pk, holdings=holdings),
        actions=[
            ProposedAction(
                kind=kind, payload={"client_id": client.pk}, summary=summary(client, _counted(holdings))[:500]
            )
        ],
    )


@agent_register
class ClientExporter(Agent):
    name = "client_exporter"
    version = "1"
    description = "Counts what the workspace holds about a client and proposes handing it over as one zip."
    Input = ClientDataInput
    Output = ClientDataOutput

    def run(self, ctx: AgentContext, input: ClientDataInput) -> AgentResult:  # noqa: A002
        return _propose(
            input.client_id,
            kind="client.export",
            summary=lambda client, held: f"Export all data about {client.name} (#{client.pk}): {held}",
        )


@agent_register
class ClientEraser(Agent):
    name = "client_eraser"
    version = "1"
    description = (
        "Counts a client's personal data and proposes erasing it (issued invoices and payments are kept)."
    )
    Input = ClientDataInput
    Output = ClientDataOutput

    def run(self, ctx: AgentContext, input: ClientDataInput) -> AgentResult:  # noqa: A002
        return _propose(
            input.client_id,
            kind="client.erase",
            # The name stays out of the summary: it outlives the erase on the approval page.
            summary=lambda client, held: f"Erase the personal data of client #{client.pk}: {held}",
        )
