"""The LLM gateway: the one way agents reach a model (DESIGN §6).

Tiers: `rules` (no model, always available, the offline default), `fast` and `quality` (the models
named by AIOS_LLM_MODEL_FAST / AIOS_LLM_MODEL_QUALITY on the OpenAI-compatible endpoint at
AIOS_LLM_BASE_URL). For every `structured()` call the gateway, in this order:

1. resolves the tier to a model; a tier without a model (or tier `rules`) runs the agent's rules;
2. looks the answer up in the cache, keyed by sha256 of (model, messages, schema). A hit is served
   even when the budget is spent: it costs nothing, and withholding it would only degrade the answer;
3. checks the budget policies (ledger.policy.budget_check: this calendar month's recorded spend, for the
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

from __future__ import annotations

import functools
import hashlib
import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from pydantic import BaseModel, ValidationError

from agents.models import LLMCacheEntry
from ledger.models import LLMCall, ModelPrice, Task, TaskEvent
from ledger.policy import DEFER as BUDGET_DEFER
from ledger.policy import DOWNGRADE as BUDGET_DOWNGRADE
from ledger.policy import OK as BUDGET_OK
from ledger.policy import budget_check
from ledger.services import BudgetDeferred, NeedsReview, task_event

logger = logging.getLogger(__name__)

RULES = "rules"
TIERS = (RULES, "fast", "quality")

# Retry n (1-based) waits RETRY_BASE_SECONDS · 2^(n-1) ± 20 %, or what Retry-After asks if that is
# longer, never more than RETRY_MAX_SECONDS: a step must not sit for minutes on one call — the task's
# own retries cover longer outages. Module constants so tests can shrink them.
RETRY_BASE_SECONDS = 0.5
RETRY_MAX_SECONDS = 8.0
RETRYABLE_STATUS = frozenset({408, 429})  # and every 5xx

ERROR_TEXT_LIMIT = 4000
COST_QUANTUM = Decimal("0.000001")  # LLMCall.cost has 6 decimal places
REPAIR_PROMPT = (
    "Your previous reply does not match the required JSON schema: {problems}\n"
    "Reply again with only the corrected JSON object, no prose and no code fence. The schema:\n{schema}"
)

SchemaT = TypeVar("SchemaT", bound=BaseModel)

_unpriced_warned: set[str] = set()


class LLMUnavailable(Exception):
    """The model could not be reached after the retries (timeouts, 429, 5xx) and the agent has no rules.

    Not `NeedsReview`: the outage is likely transient, so the conductor's task retries (minutes apart)
    are the right answer; after the last one the task is dead-lettered for the operator.
    """


class ReplayMismatch(LookupError):
    """Replay asked the gateway something the task's recorded LLM calls do not answer."""


@dataclass(frozen=True)
class StructuredResult:
    value: BaseModel
    tier_used: str  # "rules", "fast" or "quality"
    model: str | None  # None when the value came from rules
    cache_hit: bool
    call_id: int | None  # the LLMCall row that decided the value (None only without a task record)
    fell_back: bool  # the model was asked but the value came from rules


@functools.lru_cache(maxsize=256)
def _json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    """A schema's JSON schema, built once per class: pydantic rebuilds it on every call (milliseconds for
    the intake's fields), and the gateway needs it two or three times per call. Never mutated."""
    return schema.model_json_schema()


def prompt_hash(*, model: str, messages: list[dict[str, Any]], schema: dict[str, Any]) -> str:
    """sha256 of (model, messages, schema JSON): the cache key and the replay matcher."""
    canonical = json.dumps(
        {"model": model, "messages": messages, "schema": schema},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def llm_call_cost(*, model: str, tokens_in: int, tokens_out: int) -> Decimal | None:
    """What the tokens cost by the model's ModelPrice row; None when the model has no price."""
    price = ModelPrice.objects.filter(model=model).first()
    if price is None:
        return None
    cost = (tokens_in * price.input_per_million + tokens_out * price.output_per_million) / Decimal(1_000_000)
    return cost.quantize(COST_QUANTUM, rounding=ROUND_HALF_UP)


def _model_for(tier: str) -> str | None:
    if tier == RULES or not settings.AIOS_LLM_BASE_URL:
        return None
    return {"fast": settings.AIOS_LLM_MODEL_FAST, "quality": settings.AIOS_LLM_MODEL_QUALITY}[tier] or None


def _json_text(text: str) -> str:
    """The JSON inside a reply; some OpenAI-compatible servers wrap it in a Markdown code fence."""
    stripped = text.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", stripped, flags=re.DOTALL)
    return fenced.group(1) if fenced else stripped


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or '(whole answer)'}: {error['msg']}"
        for error in exc.errors(include_url=False)
    )


def _validated(text: str | None, schema: type[SchemaT]) -> tuple[SchemaT | None, str]:
    """(value, "") when `text` is JSON that fits the schema, else (None, what is wrong)."""
    if text is None:
        return None, "the reply had no content"
    try:
        return schema.model_validate_json(_json_text(text)), ""
    except ValidationError as exc:
        return None, _problems(exc)


@dataclass
class _Reply:
    """What one request (or one recorded row) produced."""

    call_id: int | None
    value: BaseModel | None = None
    text: str = ""
    problem: str = ""  # why there is no value
    invalid: bool = False  # the model answered, but not in the schema (worth one repair)
    tokens_in: int = 0
    tokens_out: int = 0
    transient: bool = False  # no answer because of an outage (timeouts, 429, 5xx) that may pass
    budget_blocked: bool = False  # no request: a budget policy's cap is reached
    budgets: list[str] = field(default_factory=list)  # the names of those budget policies
    tier: str = ""  # set when a budget dropped the call to a cheaper tier: the tier and model used
    model: str = ""


@dataclass
class _Exchange:
    """The outcome of one request to the endpoint, retries included."""

    text: str | None
    tokens_in: int
    tokens_out: int
    attempts: int
    latency_ms: int
    error: str = ""
    transient: bool = False


class LLMGateway:
    """Bound to one task step; agents get it as `ctx.llm`."""

    def __init__(self, *, task: Task | None = None, step: str = "", agent: str = "", replay: bool = False):
        self.task = task
        self.step = step
        self.agent = agent
        self.replay = replay
        self._recorded: list[LLMCall] | None = None  # replay: the rows still to answer from

    def _critical(self) -> bool:
        """Work of a critical workflow keeps going on a cheaper tier when a budget is reached."""
        from agents import kernel

        if self.task is None:
            return True
        try:
            return kernel.workflow_get(self.task.workflow).critical
        except kernel.RegistryError:
            return False

    def _who(self) -> str:
        return f"{self.agent or 'agent'} step {self.step or '-'}"

    def __repr__(self) -> str:
        return f"LLMGateway(task={getattr(self.task, 'pk', None)}, step={self.step!r}, replay={self.replay})"

    # --- The one entry point ------------------------------------------------------------------

    def structured(
        self,
        *,
        tier: str,
        messages: list[dict[str, Any]],
        schema: type[SchemaT],
        rules: Callable[[], SchemaT] | None = None,
    ) -> StructuredResult:
        """A `schema` instance from the tier's model, or from `rules` when the model cannot give one."""
        if tier not in TIERS:
            raise ValueError(f"tier must be one of {', '.join(TIERS)}; got {tier!r}")
        messages = [dict(message) for message in messages]
        schema_json = _json_schema(schema)

        model = self._replay_model() if self.replay else _model_for(tier)
        if model is None:
            return self._rules_only(tier=tier, messages=messages, schema=schema, rules=rules)

        key = prompt_hash(model=model, messages=messages, schema=schema_json)
        reply = self._cached(tier=tier, model=model, key=key, messages=messages, schema=schema)
        if reply is not None:
            return StructuredResult(
                reply.value, tier, model, cache_hit=True, call_id=reply.call_id, fell_back=False
            )

        reply = self._ask(tier=tier, model=model, key=key, messages=messages, schema=schema)
        if reply.invalid:
            # The model answered, but not in the schema: show it its answer and what is wrong, once.
            repair_messages = [
                *messages,
                {"role": "assistant", "content": reply.text},
                {
                    "role": "user",
                    "content": REPAIR_PROMPT.format(
                        problems=reply.problem, schema=json.dumps(schema_json, sort_keys=True)
                    ),
                },
            ]
            repair_key = prompt_hash(model=model, messages=repair_messages, schema=schema_json)
            reply = self._ask(
                tier=tier, model=model, key=repair_key, messages=repair_messages, schema=schema, repair=True
            )
        if reply.value is not None:
            if reply.model:  # a budget dropped the call to a cheaper model: not the answer to cache
                return StructuredResult(
                    reply.value,
                    reply.tier,
                    reply.model,
                    cache_hit=False,
                    call_id=reply.call_id,
                    fell_back=False,
                )
            self._remember(key=key, model=model, schema=schema, reply=reply)
            return StructuredResult(
                reply.value, tier, model, cache_hit=False, call_id=reply.call_id, fell_back=False
            )

        if rules is None:
            reason = f"{self._who()}: {model} gave no valid answer ({reply.problem})"
            if reply.budget_blocked and self.task is not None:
                # Critical work without rules cannot drop to them: it waits for the budget like the rest.
                raise BudgetDeferred(reason, budgets=reply.budgets)
            raise (LLMUnavailable if reply.transient else NeedsReview)(reason)
        return StructuredResult(
            self._run_rules(rules, schema),
            RULES,
            None,
            cache_hit=False,
            call_id=reply.call_id,
            fell_back=True,
        )

    # --- Steps of a call (live or replayed) --------------------------------------------------------

    def _rules_only(
        self,
        *,
        tier: str,
        messages: list[dict[str, Any]],
        schema: type[SchemaT],
        rules: Callable[[], SchemaT] | None,
    ) -> StructuredResult:
        if tier == RULES:
            reason = "tier rules requested"
        else:
            reason = f"no model configured for tier {tier} (AIOS_LLM_BASE_URL, AIOS_LLM_MODEL_{tier.upper()})"
        if rules is None:
            raise NeedsReview(f"{self._who()}: {reason}, and it has no rules")
        key = prompt_hash(model=RULES, messages=messages, schema=_json_schema(schema))
        recorded = self._replay_take(key=key) if self.replay else None
        value = self._run_rules(rules, schema)
        if recorded is not None:
            call_id = recorded.pk
        else:
            call_id = self._record(
                tier=tier,
                model=RULES,
                key=key,
                messages=messages,
                schema=schema,
                outcome="rules",
                response_text=value.model_dump_json(),
                attempts=0,
                note=reason,
            )
        return StructuredResult(value, RULES, None, cache_hit=False, call_id=call_id, fell_back=False)

    def _cached(
        self, *, tier: str, model: str, key: str, messages: list[dict[str, Any]], schema: type[BaseModel]
    ) -> _Reply | None:
        if self.replay:
            row = self._replay_peek()
            if row is None or row.outcome != "cache":
                return None
            self._replay_take(key=key)
            value, problem = _validated(row.response_text, schema)
            if value is None:
                raise ReplayMismatch(
                    f"the recorded cache hit {row.pk} no longer fits {schema.__name__}: {problem}"
                )
            return _Reply(call_id=row.pk, value=value, text=row.response_text)
        entry = LLMCacheEntry.objects.filter(key=key).first()
        if entry is None:
            return None
        value, _ = _validated(entry.response_text, schema)
        if value is None:
            # The schema's validators changed without changing its JSON schema: the entry is stale.
            entry.delete()
            return None
        call_id = self._record(
            tier=tier,
            model=model,
            key=key,
            messages=messages,
            schema=schema,
            outcome="cache",
            response_text=entry.response_text,
            attempts=0,
            cache_hit=True,
        )
        return _Reply(call_id=call_id, value=value, text=entry.response_text)

    def _ask(
        self,
        *,
        tier: str,
        model: str,
        key: str,
        messages: list[dict[str, Any]],
        schema: type[BaseModel],
        repair: bool = False,
        skip_budget: bool = False,
    ) -> _Reply:
        """One request to the model (after the budget check), validated and recorded."""
        if self.replay:
            return self._replay_answer(key=key, schema=schema)

        if not skip_budget:
            verdict = budget_check(agent=self.agent, tier=tier, critical=self._critical())
            if verdict.state != BUDGET_OK:
                problem = f"blocked: {verdict.reason}"
                call_id = self._record(
                    tier=tier,
                    model=model,
                    key=key,
                    messages=messages,
                    schema=schema,
                    outcome="blocked",
                    attempts=0,
                    error=problem,
                    repair=repair,
                )
                cheaper = _model_for(verdict.tier) if verdict.tier == "fast" and tier == "quality" else None
                if verdict.state == BUDGET_DOWNGRADE and cheaper:
                    cheaper_key = prompt_hash(model=cheaper, messages=messages, schema=_json_schema(schema))
                    reply = self._ask(
                        tier="fast",
                        model=cheaper,
                        key=cheaper_key,
                        messages=messages,
                        schema=schema,
                        repair=repair,
                        skip_budget=True,
                    )
                    reply.tier, reply.model = "fast", cheaper
                    return reply
                if verdict.state == BUDGET_DEFER and self.task is not None:
                    raise BudgetDeferred(verdict.reason, budgets=[ref["name"] for ref in verdict.policies])
                return _Reply(
                    call_id=call_id,
                    problem=problem,
                    budget_blocked=True,
                    budgets=[ref["name"] for ref in verdict.policies],
                )

        exchange = self._request(model=model, messages=messages, schema=schema)
        if exchange.error:
            problem = f"error: {exchange.error}"
            value = None
        else:
            value, problem = _validated(exchange.text, schema)
        outcome = (
            "error" if exchange.error else ("invalid" if value is None else "repaired" if repair else "ok")
        )
        call_id = self._record(
            tier=tier,
            model=model,
            key=key,
            messages=messages,
            schema=schema,
            outcome=outcome,
            response_text=exchange.text or "",
            tokens_in=exchange.tokens_in,
            tokens_out=exchange.tokens_out,
            latency_ms=exchange.latency_ms,
            attempts=exchange.attempts,
            error=exchange.error or problem,
            repair=repair,
        )
        return _Reply(
            call_id=call_id,
            value=value,
            text=exchange.text or "",
            problem=problem,
            invalid=outcome == "invalid",
            transient=exchange.transient,
            tokens_in=exchange.tokens_in,
            tokens_out=exchange.tokens_out,
        )

    def _remember(self, *, key: str, model: str, schema: type[BaseModel], reply: _Reply) -> None:
        """Cache a valid answer (a repaired one too) under the key of the original question."""
        if self.replay:
            return
        # Two workers may answer the same question at once; the first stored answer wins.
        LLMCacheEntry.objects.bulk_create(
            [
                LLMCacheEntry(
                    key=key,
                    model=model,
                    schema=schema.__name__[:200],
                    response_text=reply.value.model_dump_json(),
                    tokens_in=reply.tokens_in,
                    tokens_out=reply.tokens_out,
                )
            ],
            ignore_conflicts=True,
        )

    def _run_rules(self, rules: Callable[[], SchemaT], schema: type[SchemaT]) -> SchemaT:
        value = rules()
        if not isinstance(value, schema):
            raise TypeError(
                f"rules of {self.agent or 'agent'} returned {type(value).__name__}, not {schema.__name__}"
            )
        return value

    # --- HTTP --------------------------------------------------------------------------------------

    def _request(self, *, model: str, messages: list[dict[str, Any]], schema: type[BaseModel]) -> _Exchange:
        # Imported here: the SDK takes ~0.4 s to import, which an offline workspace never needs to pay.
        import openai

        started = time.monotonic()
        attempts = 0
        retries = settings.AIOS_LLM_MAX_RETRIES
        response_format = {
            "type": "json_schema",
            "json_schema": {
                "name": re.sub(r"[^a-zA-Z0-9_-]", "_", schema.__name__)[:64],
                "schema": _json_schema(schema),
                "strict": False,
            },
        }

        def elapsed_ms() -> int:
            return int((time.monotonic() - started) * 1000)

        with openai.OpenAI(
            base_url=settings.AIOS_LLM_BASE_URL,
            # Local servers (Ollama, vLLM) need no key, but the SDK refuses to start without one.
            api_key=settings.AIOS_LLM_API_KEY or "unused",
            timeout=settings.AIOS_LLM_TIMEOUT_SECONDS,
            max_retries=0,  # retried below, so that every attempt is counted and bounded here
        ) as client:
            while True:
                attempts += 1
                try:
                    completion = client.chat.completions.create(
                        model=model, messages=messages, response_format=response_format
                    )
                except openai.APIStatusError as exc:
                    transient = exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500
                    error = f"HTTP {exc.status_code}: {exc.message}"
                    retry_after = _retry_after_seconds(exc.response.headers)
                except openai.APIConnectionError as exc:  # APITimeoutError is one of these
                    transient, retry_after = True, None
                    error = (
                        "timeout" if isinstance(exc, openai.APITimeoutError) else f"connection: {exc.message}"
                    )
                except openai.OpenAIError as exc:  # e.g. a 200 whose body is not a completion
                    transient, retry_after, error = False, None, f"{type(exc).__name__}: {exc}"
                else:
                    usage = completion.usage
                    text = completion.choices[0].message.content if completion.choices else None
                    return _Exchange(
                        text=text,
                        tokens_in=usage.prompt_tokens if usage else 0,
                        tokens_out=usage.completion_tokens if usage else 0,
                        attempts=attempts,
                        latency_ms=elapsed_ms(),
                    )
                if not transient or attempts > retries:
                    logger.warning("LLM call to %s failed after %d attempt(s): %s", model, attempts, error)
                    return _Exchange(
                        text=None,
                        tokens_in=0,
                        tokens_out=0,
                        attempts=attempts,
                        latency_ms=elapsed_ms(),
                        error=error[:ERROR_TEXT_LIMIT],
                        transient=transient,
                    )
                time.sleep(_backoff_seconds(attempt=attempts, retry_after=retry_after))

    # --- Recording ---------------------------------------------------------------------------------

    def _record(
        self,
        *,
        tier: str,
        model: str,
        key: str,
        messages: list[dict[str, Any]],
        schema: type[BaseModel],
        outcome: str,
        response_text: str = "",
        tokens_in: int = 0,
        tokens_out: int = 0,
        latency_ms: int = 0,
        attempts: int = 1,
        cache_hit: bool = False,
        error: str = "",
        note: str = "",
        repair: bool = False,
    ) -> int:
        cost = Decimal("0")
        if tokens_in or tokens_out:
            priced = llm_call_cost(model=model, tokens_in=tokens_in, tokens_out=tokens_out)
            if priced is None:
                if model not in _unpriced_warned:
                    _unpriced_warned.add(model)
                    logger.warning("No ModelPrice for %s: its calls are recorded at cost 0", model)
                note = f"unpriced: no ModelPrice row for {model}; cost recorded as 0"
            else:
                cost = priced
        request = {
            "messages": messages,
            "schema": schema.__name__,
            "attempt": self.task.attempts if self.task else 0,
            "repair": repair,
        }
        with transaction.atomic():
            call = LLMCall.objects.create(
                task=self.task,
                step=self.step,
                agent=self.agent,
                model=model,
                tier=tier,
                prompt_hash=key,
                request=request,
                response_text=response_text,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cost=cost,
                latency_ms=latency_ms,
                cache_hit=cache_hit,
                attempts=attempts,
                outcome=outcome,
                error="\n".join(part for part in (error, note) if part)[:ERROR_TEXT_LIMIT],
            )
            if self.task is not None:
                if cost:
                    Task.objects.filter(pk=self.task.pk).update(cost=F("cost") + cost)
                task_event(
                    task=self.task,
                    kind=TaskEvent.Kind.LLM_CALL,
                    step=self.step,
                    message=f"{model} {outcome}",
                    data={
                        "call_id": call.pk,
                        "agent": self.agent,
                        "model": model,
                        "tier": tier,
                        "outcome": outcome,
                        "tokens_in": tokens_in,
                        "tokens_out": tokens_out,
                        "cost": str(cost),
                        "attempts": attempts,
                    },
                )
        return call.pk

    # --- Replay ------------------------------------------------------------------------------------

    def _replay_rows(self) -> list[LLMCall]:
        if self._recorded is None:
            if self.task is None:
                raise ReplayMismatch("replay needs the task whose recorded calls answer it")
            rows = list(LLMCall.objects.filter(task=self.task, step=self.step).order_by("created_at", "id"))
            # A step re-run by a later attempt asked again; the last attempt's calls made its output.
            last = max((row.request.get("attempt", 0) for row in rows), default=0)
            self._recorded = [row for row in rows if row.request.get("attempt", 0) == last]
        return self._recorded

    def _replay_peek(self) -> LLMCall | None:
        rows = self._replay_rows()
        return rows[0] if rows else None

    def _replay_model(self) -> str | None:
        row = self._replay_peek()
        if row is None:
            raise ReplayMismatch(f"task {self.task.pk} step {self.step!r} has no further recorded LLM call")
        return None if row.model == RULES else row.model

    def _replay_take(self, *, key: str) -> LLMCall:
        row = self._replay_peek()
        if row is None:
            raise ReplayMismatch(f"task {self.task.pk} step {self.step!r} has no further recorded LLM call")
        if row.prompt_hash != key:
            raise ReplayMismatch(
                f"task {self.task.pk} step {self.step!r}: the agent now asks something else than recorded "
                f"call {row.pk} ({row.model}, {row.outcome})"
            )
        self._recorded.pop(0)
        return row

    def _replay_answer(self, *, key: str, schema: type[BaseModel]) -> _Reply:
        row = self._replay_take(key=key)
        if row.outcome in ("blocked", "error"):
            return _Reply(call_id=row.pk, problem=f"{row.outcome}: {row.error}")
        value, problem = _validated(row.response_text, schema)
        return _Reply(
            call_id=row.pk, value=value, text=row.response_text, problem=problem, invalid=value is None
        )


def _retry_after_seconds(headers: Any) -> float | None:
    """The wait a 429/503 asks for (retry-after-ms, or Retry-After in seconds or as an HTTP date)."""
    if value := headers.get("retry-after-ms"):
        try:
            return float(value) / 1000
        except ValueError:
            pass
    if value := headers.get("retry-after"):
        try:
            return float(value)
        except ValueError:
            try:
                return (parsedate_to_datetime(value) - timezone.now()).total_seconds()
            except (TypeError, ValueError):
                return None
    return None


def _backoff_seconds(*, attempt: int, retry_after: float | None) -> float:
    delay = RETRY_BASE_SECONDS * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter only
    return max(0.0, min(RETRY_MAX_SECONDS, max(delay, retry_after or 0.0)))
