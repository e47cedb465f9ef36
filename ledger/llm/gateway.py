"""The gateway bound to one task step: rules, cache, budget, request, repair, fallback, recording, replay."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from pydantic import BaseModel

from agents import kernel
from agents.kernel import BudgetDeferred, LLMUnavailable, NeedsReview, StructuredResult
from agents.kernel.ports import SchemaT
from agents.models import LLMCacheEntry
from ledger.llm import http
from ledger.llm.answers import json_schema, prompt_hash, validated
from ledger.llm.cost import llm_call_cost
from ledger.models import LLMCall, Task, TaskEvent
from ledger.policy import DEFER as BUDGET_DEFER
from ledger.policy import DOWNGRADE as BUDGET_DOWNGRADE
from ledger.policy import OK as BUDGET_OK
from ledger.policy import budget_check
from ledger.services.events import task_event

logger = logging.getLogger(__name__)

RULES = "rules"
TIERS = (RULES, "fast", "quality")

REPAIR_PROMPT = (
    "Your previous reply does not match the required JSON schema: {problems}\n"
    "Reply again with only the corrected JSON object, no prose and no code fence. The schema:\n{schema}"
)

_unpriced_warned: set[str] = set()


class ReplayMismatch(LookupError):
    """Replay asked the gateway something the task's recorded LLM calls do not answer."""


def _model_for(tier: str) -> str | None:
    if tier == RULES or not settings.AIOS_LLM_BASE_URL:
        return None
    return {"fast": settings.AIOS_LLM_MODEL_FAST, "quality": settings.AIOS_LLM_MODEL_QUALITY}[tier] or None


@dataclass(frozen=True)
class _Question:
    """One question to one model: what every step of a call (cache, request, record) is about."""

    tier: str
    model: str
    messages: list[dict[str, Any]]
    schema: type[BaseModel]
    repair: bool = False  # the second asking, with the model's invalid answer and what is wrong

    @functools.cached_property
    def key(self) -> str:
        return prompt_hash(model=self.model, messages=self.messages, schema=json_schema(self.schema))


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
        schema_json = json_schema(schema)

        model = self._replay_model() if self.replay else _model_for(tier)
        if model is None:
            return self._rules_only(tier=tier, messages=messages, schema=schema, rules=rules)

        question = _Question(tier=tier, model=model, messages=messages, schema=schema)
        reply = self._cached(question)
        if reply is not None:
            return StructuredResult(
                reply.value, tier, model, cache_hit=True, call_id=reply.call_id, fell_back=False
            )

        reply = self._ask(question)
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
            reply = self._ask(
                _Question(tier=tier, model=model, messages=repair_messages, schema=schema, repair=True)
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
            self._remember(question, reply)
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
        question = _Question(tier=tier, model=RULES, messages=messages, schema=schema)
        recorded = self._replay_take(key=question.key) if self.replay else None
        value = self._run_rules(rules, schema)
        if recorded is not None:
            call_id = recorded.pk
        else:
            call_id = self._record(
                question,
                outcome="rules",
                response_text=value.model_dump_json(),
                attempts=0,
                note=reason,
            )
        return StructuredResult(value, RULES, None, cache_hit=False, call_id=call_id, fell_back=False)

    def _cached(self, question: _Question) -> _Reply | None:
        key, schema = question.key, question.schema
        if self.replay:
            row = self._replay_peek()
            if row is None or row.outcome != "cache":
                return None
            self._replay_take(key=key)
            value, problem = validated(row.response_text, schema)
            if value is None:
                raise ReplayMismatch(
                    f"the recorded cache hit {row.pk} no longer fits {schema.__name__}: {problem}"
                )
            return _Reply(call_id=row.pk, value=value, text=row.response_text)
        entry = LLMCacheEntry.objects.filter(key=key).first()
        if entry is None:
            return None
        value, _ = validated(entry.response_text, schema)
        if value is None:
            # The schema's validators changed without changing its JSON schema: the entry is stale.
            entry.delete()
            return None
        call_id = self._record(
            question,
            outcome="cache",
            response_text=entry.response_text,
            attempts=0,
            cache_hit=True,
        )
        return _Reply(call_id=call_id, value=value, text=entry.response_text)

    def _ask(self, question: _Question, *, skip_budget: bool = False) -> _Reply:
        """One request to the model (after the budget check), validated and recorded."""
        tier, model, messages, schema = question.tier, question.model, question.messages, question.schema
        if self.replay:
            return self._replay_answer(key=question.key, schema=schema)

        if not skip_budget:
            verdict = budget_check(agent=self.agent, tier=tier, critical=self._critical())
            if verdict.state != BUDGET_OK:
                problem = f"blocked: {verdict.reason}"
                call_id = self._record(question, outcome="blocked", attempts=0, error=problem)
                cheaper = _model_for(verdict.tier) if verdict.tier == "fast" and tier == "quality" else None
                if verdict.state == BUDGET_DOWNGRADE and cheaper:
                    reply = self._ask(
                        _Question(
                            tier="fast",
                            model=cheaper,
                            messages=messages,
                            schema=schema,
                            repair=question.repair,
                        ),
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

        exchange = http.request(model=model, messages=messages, schema=schema)
        if exchange.error:
            problem = f"error: {exchange.error}"
            value = None
        else:
            value, problem = validated(exchange.text, schema)
        outcome = (
            "error"
            if exchange.error
            else ("invalid" if value is None else "repaired" if question.repair else "ok")
        )
        call_id = self._record(
            question,
            outcome=outcome,
            response_text=exchange.text or "",
            tokens_in=exchange.tokens_in,
            tokens_out=exchange.tokens_out,
            latency_ms=exchange.latency_ms,
            attempts=exchange.attempts,
            error=exchange.error or problem,
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

    def _remember(self, question: _Question, reply: _Reply) -> None:
        """Cache a valid answer (a repaired one too) under the key of the original question."""
        if self.replay:
            return
        # Two workers may answer the same question at once; the first stored answer wins.
        LLMCacheEntry.objects.bulk_create(
            [
                LLMCacheEntry(
                    key=question.key,
                    model=question.model,
                    schema=question.schema.__name__[:200],
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

    # --- Recording ---------------------------------------------------------------------------------

    def _record(
        self,
        question: _Question,
        *,
        outcome: str,
        response_text: str = "",
        tokens_in: int = 0,
        tokens_out: int = 0,
        latency_ms: int = 0,
        attempts: int = 1,
        cache_hit: bool = False,
        error: str = "",
        note: str = "",
    ) -> int:
        tier, model = question.tier, question.model
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
            "messages": question.messages,
            "schema": question.schema.__name__,
            "attempt": self.task.attempts if self.task else 0,
            "repair": question.repair,
        }
        with transaction.atomic():
            call = LLMCall.objects.create(
                task=self.task,
                step=self.step,
                agent=self.agent,
                model=model,
                tier=tier,
                prompt_hash=question.key,
                request=request,
                response_text=response_text,
                tokens_in=tokens_in,
                tokens_out=tokens_out,
                cost=cost,
                latency_ms=latency_ms,
                cache_hit=cache_hit,
                attempts=attempts,
                outcome=outcome,
                error="\n".join(part for part in (error, note) if part)[: http.ERROR_TEXT_LIMIT],
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
        value, problem = validated(row.response_text, schema)
        return _Reply(
            call_id=row.pk, value=value, text=row.response_text, problem=problem, invalid=value is None
        )
