"""The agent that writes to the operator: a short notice (a budget reached, …) to the operator's own address.

It reads the workspace through core.workspace_data and only proposes the email (committed by the builtin
operator-notice rule). The agents that read the ledger itself (the approval digest, reverting a committed
change) are the ledger's: `ledger.housekeeping`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.kernel import Agent, AgentContext, AgentResult, ProposedAction, agent_register
from core import workspace_data


def operator_email() -> str:
    """The operator's own address, from the workspace."""
    address = workspace_data.workspace_identity()["operator_email"]
    if not address:
        raise LookupError("The workspace has no operator email to write to (configure the workspace).")
    return address


class NoticeInput(BaseModel):
    subject: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1)


class NoticeOutput(BaseModel):
    to: str
    subject: str


@agent_register
class OperatorNotice(Agent):
    name = "operator_notice"
    version = "1"
    description = "Writes a short notice (e.g. a budget reached) to the operator's own address."

    def run(self, ctx: AgentContext, input: NoticeInput) -> AgentResult[NoticeOutput]:  # noqa: A002
        to = operator_email()
        subject = f"[AIOS] {input.subject}"
        return AgentResult(
            output=NoticeOutput(to=to, subject=subject),
            actions=[
                ProposedAction(
                    kind="email.send",
                    payload={"to": [to], "subject": subject, "body": input.body},
                    summary=f"Notice to the operator: {input.subject}"[:500],
                )
            ],
        )
