"""Test agents and workflows that propose given actions, so the policy engine and the approval queue can be
driven through the real conductor. `NaiveAssistant` stands for an agent that obeys whatever a mail says:
the policy engine must hold even when an agent is fooled."""

import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from agents.kernel import (
    Agent,
    AgentContext,
    AgentResult,
    ProposedAction,
    Step,
    Workflow,
    agent_register,
    workflow_register,
)
from ledger import services


class ProposeInput(BaseModel):
    actions: list[dict[str, Any]] = []


class ProposeOutput(BaseModel):
    proposed: int


@agent_register
class TestProposer(Agent):
    name = "test_proposer"
    version = "1"

    def run(self, ctx: AgentContext, input: ProposeInput) -> AgentResult[ProposeOutput]:  # noqa: A002
        actions = [ProposedAction.model_validate(data) for data in input.actions]
        return AgentResult(output=ProposeOutput(proposed=len(actions)), actions=actions)


PROPOSE = workflow_register(
    Workflow(name="test.propose", steps=(Step(name="propose", agent=TestProposer.name),))
)


class MailInput(BaseModel):
    sender: str
    text: str
    invoice_ids: list[int] = []


@agent_register
class NaiveAssistant(Agent):
    """Turns the imperative sentences of an inbound mail into actions, as a prompt-injected model would."""

    name = "test_naive_assistant"
    version = "1"

    def run(self, ctx: AgentContext, input: MailInput) -> AgentResult[ProposeOutput]:  # noqa: A002
        text = input.text.lower()
        source = {"type": "message", "text": input.text, "untrusted": True}
        actions = []
        if re.search(r"mark all invoices paid", text):
            actions += [
                ProposedAction(
                    kind="invoice.mark_paid",
                    payload={"invoice_id": pk},
                    summary=f"Mark invoice {pk} paid",
                    confidence=0.99,
                    source=source,
                )
                for pk in input.invoice_ids
            ]
        if re.search(r"send the contracts to me", text):
            actions.append(
                ProposedAction(
                    kind="email.send",
                    payload={"to": [input.sender], "subject": "Contracts", "body": "All our contracts."},
                    summary=f"Email the contracts to {input.sender}",
                    confidence=0.99,
                    source=source,
                )
            )
        if re.search(r"reply to the client", text):
            actions.append(
                ProposedAction(
                    kind="email.send",
                    payload={"to": ["known@client.example"], "subject": "Re: hello", "body": "Hi."},
                    summary="Reply to the client",
                    confidence=0.99,
                    amount=Decimal("10.00"),
                    currency="EUR",
                    source=source,
                )
            )
        return AgentResult(output=ProposeOutput(proposed=len(actions)), actions=actions)


NAIVE = workflow_register(
    Workflow(name="test.naive_mail", steps=(Step(name="obey", agent=NaiveAssistant.name),))
)


def propose(*actions: dict, key: str, requested_by: Any = "system:test", run: bool = True):
    """A test.propose task proposing `actions`, run once inline; returns (task, outcome)."""
    task = services.task_submit(
        workflow=PROPOSE.name,
        input={"actions": list(actions)},
        idempotency_key=key,
        requested_by=requested_by,
    )
    outcome = services.task_execute(task_id=task.pk) if run else None
    task.refresh_from_db()
    return task, outcome
