"""The payment proposer: turns a matched bank credit (or, later, a payment notice) into one proposed
`payment.record` action. It decides nothing itself — the match was made by `core.matching` before the task
was submitted — and the ledger's money floor makes every such action wait for the operator."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from agents.kernel import Agent, AgentContext, AgentResult, ProposedAction, agent_register, workflow_one_step


class AllocationIn(BaseModel):
    invoice_id: int
    number: str = ""
    amount: Decimal = Field(gt=0)


class PaymentProposal(BaseModel):
    client_id: int
    amount: Decimal = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    received_on: str
    method: str = "bank_transfer"
    reference: str = ""
    payer_name: str = ""
    payer_iban: str = ""
    source: str = "bank_statement"
    bank_entry_id: int | None = None
    match_kind: str = ""
    allocations: list[AllocationIn] = []
    credit_left: Decimal = Decimal("0.00")


class ProposerOutput(BaseModel):
    proposed: int


KIND_WORDS = {
    "exact": "settles",
    "several": "settles",
    "partial": "pays part of",
    "overpaid": "settles, with credit left, ",
}


@agent_register
class PaymentProposer(Agent):
    name = "payment_proposer"
    version = "1"
    description = "Proposes recording a received payment and allocating it to the invoices it was matched to."

    def run(self, ctx: AgentContext, input: PaymentProposal) -> AgentResult[ProposerOutput]:  # noqa: A002
        numbers = (
            ", ".join(item.number or f"#{item.invoice_id}" for item in input.allocations) or "no invoice"
        )
        verb = KIND_WORDS.get(input.match_kind, "for")
        payer = input.payer_name or "the client"
        summary = f"Record {input.amount} {input.currency} from {payer}: {verb} {numbers}"
        if input.credit_left > 0:
            summary += f" ({input.credit_left} {input.currency} kept as credit)"
        payload = input.model_dump(mode="json", exclude={"match_kind"})
        return AgentResult(
            output=ProposerOutput(proposed=1),
            actions=[
                ProposedAction(
                    kind="payment.record",
                    payload=payload,
                    summary=summary[:500],
                    amount=input.amount,
                    currency=input.currency,
                    source={"type": input.source, "untrusted": True, "bank_entry_id": input.bank_entry_id},
                )
            ],
        )


PAYMENT_PROPOSE = workflow_one_step(
    name="payment.propose",
    step="propose",
    agent=PaymentProposer,
    description="A received payment, matched to invoices, proposed for the operator to record.",
    critical=True,
)
