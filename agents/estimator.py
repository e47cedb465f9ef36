"""The estimator: requested services → priced line items, a total, a confidence and the reasons.

Rules tier (offline, deterministic): each requested service maps to its pricing rule; the quantity is
what the mail says for the rule's unit ("6 pages", "ten illustrations", "3 months"), never below the
rule's minimum; copy written for a site follows the site's page count. Similar past work of the
sender's own client is recalled from memory (bound to the step's client scope) and named in the reasons;
earlier proposals of other clients for the same services are only `references` — a link and figures for
the operator, never their text, so nothing another client wrote can reach a draft or a prompt for this
one (docs/adr/0013-client-scope.md). A budget is never silently exceeded: when the estimate is over what
the client said, the output says so (and by how much) and the confidence drops. Amounts are Decimal.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel

from agents.kernel import Agent, AgentContext, AgentResult, agent_register

CENT = Decimal("0.01")
NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "a couple of": 2, "a few": 3,
}  # fmt: skip
# Words that name one unit of a pricing rule, by the rule's unit.
UNIT_WORDS = {
    "page": r"pages?|sub-?pages?|screens?|sections?",
    "piece": r"pieces?|illustrations?|icons?|drawings?|images?",
    "month": r"months?",
    "hour": r"hours?|hrs?",
    "day": r"days?",
}
# A page count is only read from words about pages of a site, e.g. "6 pages (home, about …)".
NUMBER = r"(\d{1,3}|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"


class ServiceRule(BaseModel):
    key: str
    name: str
    unit: str
    unit_price: Decimal
    currency: str
    min_units: Decimal


class EstimateInput(BaseModel):
    route: str = "proposal"  # the coordinator's route; other routes are not estimated
    services: list[str] = []
    text: str = ""
    budget_amount: Decimal | None = None
    budget_currency: str = ""
    rules: list[ServiceRule] = []


class EstimateLine(BaseModel):
    service_key: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    quantity_source: str  # the words the quantity was read from, or "minimum of the pricing rule"


class Estimate(BaseModel):
    skipped: bool = False
    lines: list[EstimateLine] = []
    total: Decimal = Decimal("0.00")
    currency: str = ""
    confidence: float = 0.0
    over_budget: bool = False
    budget_note: str = ""
    reasons: list[str] = []
    similar: list[dict] = []  # the sender's own client's earlier work, from memory
    # Other clients' earlier proposals for the same services: {kind, id, label, url, figures}, for the
    # operator only (never text, never in a draft or a prompt).
    references: list[dict] = []


def quantity_in(text: str, unit: str) -> tuple[Decimal | None, str]:
    """The count the text gives for `unit` (the largest one mentioned) and the words it came from."""
    words = UNIT_WORDS.get(unit)
    if not words:
        return None, ""
    best: tuple[int, str] | None = None
    for match in re.finditer(rf"\b{NUMBER}\s+(?:[a-z-]+\s+)?(?:{words})\b", text, flags=re.IGNORECASE):
        raw = match.group(1).lower()
        count = int(raw) if raw.isdigit() else NUMBER_WORDS[raw]
        if 0 < count <= 500 and (best is None or count > best[0]):
            best = (count, match.group(0))
    if best is None:
        return None, ""
    return Decimal(best[0]), best[1]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def estimate(
    *,
    input: EstimateInput,  # noqa: A002
    similar: list[dict] | None = None,
    references: list[dict] | None = None,
) -> Estimate:
    rules = {rule.key: rule for rule in input.rules}
    lines: list[EstimateLine] = []
    reasons: list[str] = []
    guessed = 0
    site_pages: tuple[Decimal, str] | None = None
    for key in sorted(input.services, key=lambda k: (k == "copywriting", k)):
        rule = rules.get(key)
        if rule is None:
            reasons.append(f"No pricing rule for {key!r}: left out, price it by hand.")
            continue
        quantity, source = quantity_in(input.text, rule.unit)
        if quantity is not None and rule.unit == "page" and key != "copywriting":
            site_pages = (quantity, source)
        if quantity is None and key == "copywriting" and site_pages is not None:
            quantity, source = site_pages[0], f"{site_pages[1]} (the site's pages)"
        if quantity is None:
            quantity, source = rule.min_units, "minimum of the pricing rule"
            if rule.unit != "package":
                guessed += 1
        if quantity < rule.min_units:
            reasons.append(f"{rule.name}: {quantity} {rule.unit} raised to the minimum of {rule.min_units}.")
            quantity = rule.min_units
        amount = _money(quantity * rule.unit_price)
        lines.append(
            EstimateLine(
                service_key=key,
                description=rule.name,
                quantity=quantity,
                unit=rule.unit,
                unit_price=rule.unit_price,
                amount=amount,
                quantity_source=source,
            )
        )
        reasons.append(f"{rule.name}: {quantity} × {rule.unit_price} {rule.currency} ({source}).")
    currencies = {rules[line.service_key].currency for line in lines}
    currency = next(iter(currencies)) if len(currencies) == 1 else ""
    if len(currencies) > 1:
        reasons.append("The pricing rules use several currencies: the total needs the operator.")
    total = _money(sum((line.amount for line in lines), Decimal("0")))
    confidence = 0.0 if not lines else max(0.3, 0.85 - 0.15 * guessed)
    over_budget, budget_note = False, ""
    if input.budget_amount is not None and lines:
        budget = input.budget_amount
        if input.budget_currency and input.budget_currency == currency:
            if total > budget:
                over_budget = True
                budget_note = (
                    f"The estimate {total} {currency} is over the stated budget {budget} {currency} by "
                    f"{_money(total - budget)} {currency}: propose less, or explain the difference."
                )
                confidence = min(confidence, 0.5)
            else:
                budget_note = (
                    f"The estimate {total} {currency} is within the stated budget {budget} {currency}."
                )
        else:
            budget_note = (
                f"The budget is {budget} {input.budget_currency}, the prices are in {currency}: the "
                "workspace has no exchange rate, so compare them before sending."
            )
            confidence = min(confidence, 0.7)
        reasons.append(budget_note)
    for item in similar or []:
        reasons.append(f"Similar earlier work: {item.get('text', '')[:160]}")
    return Estimate(
        lines=lines,
        total=total,
        currency=currency,
        confidence=round(confidence, 2),
        over_budget=over_budget,
        budget_note=budget_note,
        reasons=reasons,
        similar=similar or [],
        references=references or [],
    )


@agent_register
class Estimator(Agent):
    name = "estimator"
    version = "1"
    description = (
        "Prices the requested services from the pricing rules, compares with the budget and past work."
    )

    def run(self, ctx: AgentContext, input: EstimateInput) -> AgentResult[Estimate]:  # noqa: A002
        if input.route not in ("proposal", "change") or not input.services:
            return AgentResult(output=Estimate(skipped=True, reasons=["Nothing to estimate on this route."]))
        similar: list[dict] = []
        if ctx.memory is not None:
            # What is asked for, in the catalogue's words: it finds earlier proposals for the same kind
            # of work better than the mail's greeting and small talk would (and embeds in a fraction of
            # the time of a whole mail).
            names = {rule.key: rule.name for rule in input.rules}
            query = "Proposal for " + ", ".join(names.get(key, key) for key in input.services)
            # Bound to the step's client scope: the sender's own client's memory, none for a stranger.
            found = ctx.memory.recall(query=query, mode="recall", k=5)
            similar = [
                {"item": item.get("item"), "kind": item.get("kind"), "text": item.get("text", "")}
                for item in found
                if item.get("kind") in ("proposal", "summary", "decision")
            ][:3]
        references = (
            [ref.as_dict() for ref in ctx.scope.similar_work(service_keys=input.services)]
            if ctx.scope
            else []
        )
        return AgentResult(output=estimate(input=input, similar=similar, references=references))
