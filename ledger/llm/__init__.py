"""The LLM gateway: the one way agents reach a model (DESIGN §6), as the `ctx.llm` port.

It lives in the ledger, not in agents, because every call is recorded on the running task (LLMCall rows,
Task.cost, timeline events) and checked against the ledger's budget policies; agents see only the
`agents.kernel.LLM` protocol (docs/adr/0009-layers-and-ports.md).

Tiers: `rules` (no model, always available, the offline default), `fast` and `quality` (the models
named by AIOS_LLM_MODEL_FAST / AIOS_LLM_MODEL_QUALITY on the OpenAI-compatible endpoint at
AIOS_LLM_BASE_URL). For every `structured()` call the gateway, in this order:

1. resolves the tier to a model; a tier without a model (or tier `rules`) runs the agent's rules;
2. looks the answer up in the cache, keyed by sha256 of (model, messages, schema). A hit is served
   even when the budget is spent: it costs nothing, and withholding it would only degrade the answer;
3. checks the budget policies (`ledger.policy.budget_check`: this calendar month's recorded spend, for the
   workspace and per agent); once a cap is reached no request is made: non-critical work is deferred
   (`BudgetDeferred`, the conductor retries it later and tells the operator), critical work drops to the
   fast model or to its rules (checked before each request, so workers running at the same moment can
   overshoot a cap by the calls they have in flight);
4. asks the model for JSON matching the schema, with a timeout, retrying 408/429/5xx, timeouts and
   connection errors with exponential backoff and jitter (Retry-After honoured, capped);
5. validates the answer against the schema; an invalid answer gets one repair request (the model sees
   its answer and the errors); still invalid, or no answer at all, falls back to the agent's rules, or,
   without rules, hands the task to the operator (`NeedsReview`) — except a transient outage, which
   raises `LLMUnavailable` so that the conductor retries the task later.

What is recorded. Each decision of the gateway is one LLMCall row on the task, with tokens, cost (from
ledger.ModelPrice), latency (of the whole call, retries included) and outcome:
`ok` / `repaired` / `invalid` / `error` (one row per request; retries are counted in `attempts`),
`cache` (a hit, cost 0), `blocked` (budget reached, no request, cost 0), `rules` (the agent's rules ran
because the tier has no model, cost 0, model "rules"). A fallback after `error`/`invalid`/`blocked` adds
no row: that row already explains it. A `rules` row makes replay exact and shows the operator which
agents ran offline; only a call that raises `NeedsReview` before any decision leaves no row. Each row
also adds an `llm_call` event to the task's timeline and its cost to `Task.cost` (an F() increment, so
the spend is visible while the task runs; the conductor's end-of-attempt sum agrees with it).

Replay (`replay=True`) reaches neither the network, the budget nor the cache and writes nothing: each
call is answered from the task's recorded rows for the step (of the step's last recorded attempt), in
order, and each row's prompt hash must match what the agent asks now.

The API key is handed to the SDK and nowhere else: it is never logged, stored or put in an error.
"""

from agents.kernel import LLMUnavailable, StructuredResult
from ledger.llm.answers import prompt_hash
from ledger.llm.cost import llm_call_cost
from ledger.llm.gateway import RULES, TIERS, LLMGateway, ReplayMismatch

__all__ = [
    "RULES",
    "TIERS",
    "LLMGateway",
    "LLMUnavailable",
    "ReplayMismatch",
    "StructuredResult",
    "llm_call_cost",
    "prompt_hash",
]
