"""What a model call costs, from the editable price table (ledger.ModelPrice)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ledger.models import ModelPrice

COST_QUANTUM = Decimal("0.000001")  # LLMCall.cost has 6 decimal places


def llm_call_cost(*, model: str, tokens_in: int, tokens_out: int) -> Decimal | None:
    """What the tokens cost by the model's ModelPrice row; None when the model has no price."""
    price = ModelPrice.objects.filter(model=model).first()
    if price is None:
        return None
    cost = (tokens_in * price.input_per_million + tokens_out * price.output_per_million) / Decimal(1_000_000)
    return cost.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)
