"""The agents of the client-data workflows: they read what the workspace holds about the client and
propose the export or the erase, with the counts, so the operator approves knowing what it covers."""

from __future__ import annotations

from typing import ClassVar

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


class _ClientDataAgent(Agent):
    """Counts what the workspace holds about the client and proposes `kind` for it, counts in the summary."""

    version = "1"
    kind: ClassVar[str]

    def summary(self, client: Client, held: str) -> str:
        raise NotImplementedError

    def run(self, ctx: AgentContext, input: ClientDataInput) -> AgentResult[ClientDataOutput]:  # noqa: A002
        client = _client(input.client_id)
        holdings = privacy.client_data_inventory(client=client)
        return AgentResult(
            output=ClientDataOutput(client_id=client.pk, holdings=holdings),
            actions=[
                ProposedAction(
                    kind=self.kind,
                    payload={"client_id": client.pk},
                    summary=self.summary(client, _counted(holdings))[:500],
                )
            ],
        )


@agent_register
class ClientExporter(_ClientDataAgent):
    name = "client_exporter"
    description = "Counts what the workspace holds about a client and proposes handing it over as one zip."
    kind = "client.export"

    def summary(self, client: Client, held: str) -> str:
        return f"Export all data about {client.name} (#{client.pk}): {held}"


@agent_register
class ClientEraser(_ClientDataAgent):
    name = "client_eraser"
    description = (
        "Counts a client's personal data and proposes erasing it (issued invoices and payments are kept)."
    )
    kind = "client.erase"

    def summary(self, client: Client, held: str) -> str:
        # The name stays out of the summary: it outlives the erase on the approval page.
        return f"Erase the personal data of client #{client.pk}: {held}"
