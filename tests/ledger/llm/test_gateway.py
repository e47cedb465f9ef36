"""The LLM gateway against a real OpenAI-protocol server on loopback, through the real `openai` SDK."""

import datetime as dt
import socket
from decimal import Decimal
from typing import Literal

import pytest
from django.utils import timezone
from pydantic import BaseModel, Field

from agents.kernel import BudgetDeferred, NeedsReview
from agents.models import LLMCacheEntry
from ledger.llm import LLMGateway, LLMUnavailable, ReplayMismatch, prompt_hash
from ledger.llm import http as llm_http
from ledger.models import LLMCall, Task, TaskEvent
from tests.agents.openai_server import Reply
from tests.llm_endpoint import API_KEY, FAST_MODEL, set_budget

pytestmark = pytest.mark.django_db

ONE_CALL_COST = Decimal("0.003250")  # 1000 tokens in at 1.25 USD/M + 200 out at 10 USD/M
MESSAGES = [
    {"role": "system", "content": "Say whether the client accepted. Answer in JSON."},
    {"role": "user", "content": "Sounds good, let's go ahead."},
]
GOOD = {"label": "yes", "confidence": 0.9}
RULES_VERDICT = {"label": "no", "confidence": 0.0}


class Verdict(BaseModel):
    label: Literal["yes", "no"]
    confidence: float = Field(ge=0, le=1)


def by_rules() -> Verdict:
    return Verdict(**RULES_VERDICT)


def ask(task=None, *, rules=by_rules, messages=MESSAGES, tier="fast", replay=False):
    gateway = LLMGateway(task=task, step="classify", agent="test_classifier", replay=replay)
    return gateway.structured(tier=tier, messages=messages, schema=Verdict, rules=rules)


def calls(task=None):
    rows = LLMCall.objects.order_by("id") if task is None else task.llm_calls.order_by("id")
    return list(rows.values_list("outcome", "tokens_in", "tokens_out", "cost", "attempts"))


def llm_events(task):
    return list(
        task.events.filter(kind=TaskEvent.Kind.LLM_CALL).order_by("id").values_list("data", flat=True)
    )


# --- A normal answer ------------------------------------------------------------------------


def test_a_valid_answer_is_recorded_with_tokens_cost_and_a_timeline_event(llm_endpoint, task):
    llm_endpoint.script(Reply.json(GOOD))

    result = ask(task)

    assert result.value == Verdict(**GOOD)
    assert (result.tier_used, result.model, result.cache_hit, result.fell_back) == (
        "fast",
        FAST_MODEL,
        False,
        False,
    )
    assert llm_endpoint.count == 1
    sent = llm_endpoint.received[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.body["model"] == FAST_MODEL and sent.body["messages"] == MESSAGES
    assert sent.body["response_format"]["type"] == "json_schema"
    assert sent.body["response_format"]["json_schema"]["name"] == "Verdict"
    assert sent.body["response_format"]["json_schema"]["schema"] == Verdict.model_json_schema()

    call = LLMCall.objects.get()
    assert call.pk == result.call_id
    assert calls(task) == [("ok", 1000, 200, ONE_CALL_COST, 1)]
    assert (call.task, call.step, call.agent, call.model, call.tier) == (
        task,
        "classify",
        "test_classifier",
        FAST_MODEL,
        "fast",
    )
    assert call.prompt_hash == prompt_hash(
        model=FAST_MODEL, messages=MESSAGES, schema=Verdict.model_json_schema()
    )
    assert call.request == {"messages": MESSAGES, "schema": "Verdict", "attempt": 1, "repair": False}
    assert Verdict.model_validate_json(call.response_text) == Verdict(**GOOD)
    assert call.cache_hit is False and call.error == ""

    task.refresh_from_db()
    assert task.cost == ONE_CALL_COST
    assert llm_events(task) == [
        {
            "call_id": call.pk,
            "agent": "test_classifier",
            "model": FAST_MODEL,
            "tier": "fast",
            "outcome": "ok",
            "tokens_in": 1000,
            "tokens_out": 200,
            "cost": "0.003250",
            "attempts": 1,
        }
    ]


def test_the_api_key_is_sent_but_never_stored(llm_endpoint, task):
    llm_endpoint.script(Reply.json(GOOD), then=Reply.error(500))
    ask(task)
    ask(task, messages=[{"role": "user", "content": "another question"}])

    assert llm_endpoint.received[0].headers["authorization"] == f"Bearer {API_KEY}"
    stored = [
        *LLMCall.objects.values_list("request", "response_text", "error"),
        *TaskEvent.objects.values_list("message", "data"),
        *LLMCacheEntry.objects.values_list("response_text"),
    ]
    assert API_KEY not in repr(stored)


def test_a_model_without_a_price_costs_zero_and_says_so(llm_endpoint, task, settings):
    settings.AIOS_LLM_MODEL_FAST = "unpriced-model"
    llm_endpoint.script(Reply.json(GOOD))

    ask(task)

    call = LLMCall.objects.get()
    assert (call.outcome, call.tokens_in, call.cost) == ("ok", 1000, Decimal("0"))
    assert "unpriced" in call.error
    task.refresh_from_db()
    assert task.cost == 0


# --- Retries --------------------------------------------------------------------------------


def test_a_429_is_retried_after_the_wait_it_asks_for(llm_endpoint, task):
    llm_endpoint.script(Reply.error(429, headers={"Retry-After": "0.02"}), Reply.json(GOOD))

    result = ask(task)

    assert result.value == Verdict(**GOOD) and not result.fell_back
    assert llm_endpoint.count == 2
    assert calls(task) == [("ok", 1000, 200, ONE_CALL_COST, 2)]


def test_a_500_is_retried(llm_endpoint, task):
    llm_endpoint.script(Reply.error(500), Reply.json(GOOD))

    result = ask(task)

    assert result.value == Verdict(**GOOD)
    assert llm_endpoint.count == 2
    assert calls(task) == [("ok", 1000, 200, ONE_CALL_COST, 2)]


def test_a_lasting_outage_falls_back_to_rules_after_the_retries(llm_endpoint, task):
    llm_endpoint.script(then=Reply.error(503))

    result = ask(task)

    assert result.value == Verdict(**RULES_VERDICT)
    assert (result.tier_used, result.model, result.fell_back) == ("rules", None, True)
    assert llm_endpoint.count == 3, "one request and AIOS_LLM_MAX_RETRIES=2 retries"
    call = LLMCall.objects.get()
    assert result.call_id == call.pk
    assert calls(task) == [("error", 0, 0, Decimal("0"), 3)]
    assert call.error.startswith("HTTP 503")
    task.refresh_from_db()
    assert task.cost == 0


def test_a_lasting_outage_without_rules_leaves_the_task_to_its_retries(llm_endpoint, task):
    llm_endpoint.script(then=Reply.error(500))

    with pytest.raises(LLMUnavailable, match="test_classifier step classify: test-fast gave no valid answer"):
        ask(task, rules=None)

    assert llm_endpoint.count == 3
    assert calls(task) == [("error", 0, 0, Decimal("0"), 3)]


def test_other_4xx_are_not_retried_and_go_to_review_without_rules(llm_endpoint, task):
    llm_endpoint.script(then=Reply.error(400))

    assert ask(task).fell_back is True
    assert llm_endpoint.count == 1

    with pytest.raises(NeedsReview, match="HTTP 400"):
        ask(task, rules=None)
    assert llm_endpoint.count == 2
    assert calls(task) == [("error", 0, 0, Decimal("0"), 1)] * 2


def test_a_model_slower_than_the_timeout_is_retried_then_falls_back(llm_endpoint, task, settings):
    settings.AIOS_LLM_TIMEOUT_SECONDS = 0.2
    settings.AIOS_LLM_MAX_RETRIES = 1
    llm_endpoint.script(then=Reply.json(GOOD, delay=1.5))

    result = ask(task)

    assert result.value == Verdict(**RULES_VERDICT) and result.fell_back is True
    assert llm_endpoint.count == 2
    assert calls(task) == [("error", 0, 0, Decimal("0"), 2)]
    assert LLMCall.objects.get().error == "timeout"


# --- Structured output and repair -----------------------------------------------------------


def test_an_answer_outside_the_schema_is_repaired_once(llm_endpoint, task):
    llm_endpoint.script(
        Reply.json({"label": "maybe", "confidence": 2}, prompt_tokens=1000, completion_tokens=200),
        Reply.json(GOOD, prompt_tokens=2000, completion_tokens=100),
    )

    result = ask(task)

    assert result.value == Verdict(**GOOD) and result.fell_back is False
    assert llm_endpoint.count == 2
    repair = llm_endpoint.received[1].body["messages"]
    assert repair[: len(MESSAGES)] == MESSAGES
    assert repair[2] == {"role": "assistant", "content": '{"label": "maybe", "confidence": 2}'}
    assert "label: Input should be 'yes' or 'no'" in repair[3]["content"]
    assert "confidence: Input should be less than or equal to 1" in repair[3]["content"]
    second_cost = Decimal("0.003500")  # 2000 × 1.25/M + 100 × 10/M
    assert calls(task) == [("invalid", 1000, 200, ONE_CALL_COST, 1), ("repaired", 2000, 100, second_cost, 1)]
    invalid, repaired = task.llm_calls.order_by("id")
    assert result.call_id == repaired.pk
    assert "label: Input should be 'yes' or 'no'" in invalid.error
    assert repaired.request["repair"] is True and len(repaired.request["messages"]) == 4
    task.refresh_from_db()
    assert task.cost == ONE_CALL_COST + second_cost
    assert [event["outcome"] for event in llm_events(task)] == ["invalid", "repaired"]


def test_an_answer_in_a_code_fence_is_accepted(llm_endpoint, task):
    llm_endpoint.script(Reply.text('```json\n{"label": "yes", "confidence": 0.9}\n```'))

    assert ask(task).value == Verdict(**GOOD)
    assert calls(task)[0][0] == "ok"


def test_invalid_twice_falls_back_to_rules_or_goes_to_review(llm_endpoint, task):
    llm_endpoint.script(then=Reply.text("I think they said yes!"))

    result = ask(task)

    assert result.value == Verdict(**RULES_VERDICT) and result.fell_back is True
    assert llm_endpoint.count == 2
    assert calls(task) == [("invalid", 1000, 200, ONE_CALL_COST, 1)] * 2
    assert "Invalid JSON" in LLMCall.objects.first().error

    with pytest.raises(NeedsReview, match="gave no valid answer"):
        ask(task, rules=None, messages=[{"role": "user", "content": "again"}])
    assert llm_endpoint.count == 4
    assert LLMCacheEntry.objects.count() == 0, "an invalid answer is never cached"


# --- Budget ---------------------------------------------------------------------------------


def test_once_the_monthly_budget_is_reached_no_request_is_made(llm_endpoint, task, settings):
    set_budget("0.003")  # the first call (0.00325) reaches it
    llm_endpoint.script(then=Reply.json(GOOD))

    first = ask(task)
    second = ask(task, messages=[{"role": "user", "content": "a new question"}])

    assert first.value == Verdict(**GOOD) and first.fell_back is False
    assert second.value == Verdict(**RULES_VERDICT)
    assert (second.tier_used, second.fell_back) == ("rules", True)
    assert llm_endpoint.count == 1, "the blocked call never reached the server"
    assert calls(task) == [("ok", 1000, 200, ONE_CALL_COST, 1), ("blocked", 0, 0, Decimal("0"), 0)]
    blocked = LLMCall.objects.last()
    assert second.call_id == blocked.pk
    assert "'Monthly LLM budget': 0.003250 of 0.003 USD" in blocked.error

    # Critical work without rules cannot drop to them: it waits for the budget like the rest.
    with pytest.raises(BudgetDeferred, match="LLM budget reached"):
        ask(task, rules=None, messages=[{"role": "user", "content": "a third question"}])
    assert llm_endpoint.count == 1
    assert [row[0] for row in calls(task)] == ["ok", "blocked", "blocked"]


def test_the_budget_counts_this_calendar_month_only(llm_endpoint, task, settings, frozen_clock):
    set_budget("1.00")
    settings.TIME_ZONE = "Europe/Amsterdam"
    old = LLMCall.objects.create(model=FAST_MODEL, tier="fast", prompt_hash="x" * 64, cost=Decimal("5"))
    # The clock stands still, so the month the gateway counts is the month computed here.
    month_start = timezone.localtime(frozen_clock).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    LLMCall.objects.filter(pk=old.pk).update(created_at=month_start - dt.timedelta(seconds=1))
    llm_endpoint.script(then=Reply.json(GOOD))

    assert ask(task).fell_back is False
    assert llm_endpoint.count == 1

    LLMCall.objects.filter(pk=old.pk).update(created_at=month_start)
    assert ask(task, messages=[{"role": "user", "content": "new"}]).fell_back is True
    assert llm_endpoint.count == 1


def test_a_budget_of_zero_means_no_model_calls(llm_endpoint, task, settings):
    set_budget("0")
    llm_endpoint.script(then=Reply.json(GOOD))

    assert ask(task).fell_back is True
    assert llm_endpoint.count == 0
    assert calls(task) == [("blocked", 0, 0, Decimal("0"), 0)]


# --- Cache ----------------------------------------------------------------------------------


def test_the_same_question_is_answered_from_the_cache(llm_endpoint, task):
    llm_endpoint.script(Reply.json(GOOD))

    first = ask(task)
    second = ask(task)

    assert first.value == second.value == Verdict(**GOOD)
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert (second.tier_used, second.model, second.fell_back) == ("fast", FAST_MODEL, False)
    assert llm_endpoint.count == 1
    assert calls(task) == [("ok", 1000, 200, ONE_CALL_COST, 1), ("cache", 0, 0, Decimal("0"), 0)]
    hit = LLMCall.objects.last()
    assert hit.pk == second.call_id and hit.cache_hit is True
    assert hit.prompt_hash == LLMCall.objects.first().prompt_hash == LLMCacheEntry.objects.get().key
    assert (LLMCacheEntry.objects.get().tokens_in, LLMCacheEntry.objects.get().tokens_out) == (1000, 200)
    task.refresh_from_db()
    assert task.cost == ONE_CALL_COST


def test_the_cache_key_covers_messages_model_and_schema(llm_endpoint, task, settings):
    class OtherVerdict(Verdict):
        reason: str = ""

    llm_endpoint.script(then=Reply.json(GOOD))
    ask(task)
    ask(task, messages=[*MESSAGES, {"role": "user", "content": "PS"}])
    LLMGateway(task=task, step="classify").structured(tier="fast", messages=MESSAGES, schema=OtherVerdict)
    settings.AIOS_LLM_MODEL_FAST = "another-model"
    ask(task)

    assert llm_endpoint.count == 4
    assert LLMCacheEntry.objects.count() == 4


def test_a_repaired_answer_is_cached_for_the_original_question(llm_endpoint, task):
    llm_endpoint.script(Reply.text("yes"), Reply.json(GOOD))

    ask(task)
    again = ask(task)

    assert again.cache_hit is True and again.value == Verdict(**GOOD)
    assert llm_endpoint.count == 2


def test_the_cache_is_served_when_the_budget_is_spent(llm_endpoint, task, settings):
    llm_endpoint.script(Reply.json(GOOD))
    ask(task)
    set_budget("0")

    result = ask(task)

    assert result.cache_hit is True and result.fell_back is False
    assert llm_endpoint.count == 1


# --- Rules tier -----------------------------------------------------------------------------


def test_without_an_endpoint_the_rules_run_offline(llm_endpoint, task, settings):
    settings.AIOS_LLM_BASE_URL = ""

    result = ask(task)

    assert result.value == Verdict(**RULES_VERDICT)
    assert (result.tier_used, result.model, result.cache_hit, result.fell_back) == (
        "rules",
        None,
        False,
        False,
    )
    assert llm_endpoint.count == 0
    call = LLMCall.objects.get()
    assert (call.model, call.tier, call.outcome, call.cost, call.attempts) == ("rules", "fast", "rules", 0, 0)
    assert "no model configured for tier fast" in call.error
    assert Verdict.model_validate_json(call.response_text) == Verdict(**RULES_VERDICT)
    assert result.call_id == call.pk


def test_a_tier_without_a_model_or_the_rules_tier_never_reaches_the_server(llm_endpoint, task):
    assert ask(task, tier="quality").tier_used == "rules"  # AIOS_LLM_MODEL_QUALITY is empty
    assert ask(task, tier="rules").tier_used == "rules"
    assert llm_endpoint.count == 0
    assert list(task.llm_calls.values_list("tier", "outcome")) == [("quality", "rules"), ("rules", "rules")]


def test_without_a_model_and_without_rules_the_task_goes_to_review(llm_endpoint, task, settings):
    settings.AIOS_LLM_BASE_URL = ""

    with pytest.raises(NeedsReview, match="no model configured for tier fast"):
        ask(task, rules=None)

    assert LLMCall.objects.count() == 0
    assert llm_endpoint.count == 0


def test_an_unknown_tier_is_a_programming_error(db):
    with pytest.raises(ValueError, match="tier must be one of rules, fast, quality"):
        ask(tier="best")


def test_the_gateway_works_without_a_task(llm_endpoint):
    llm_endpoint.script(Reply.json(GOOD))

    assert ask(None).value == Verdict(**GOOD)
    assert calls() == [("ok", 1000, 200, ONE_CALL_COST, 1)]
    assert LLMCall.objects.get().task is None


# --- Replay ---------------------------------------------------------------------------------


def test_replay_answers_from_the_record_without_network_budget_or_cache(llm_endpoint, task, settings):
    # Recorded: a repaired answer, a cache hit, a blocked call (rules), an outage (rules).
    llm_endpoint.script(Reply.text("yes"), Reply.json(GOOD), Reply.error(400))
    live = [ask(task), ask(task)]
    set_budget("0")
    live.append(ask(task, messages=[{"role": "user", "content": "blocked"}]))
    set_budget("100")
    live.append(ask(task, messages=[{"role": "user", "content": "outage"}]))
    requests, rows, cost = llm_endpoint.count, LLMCall.objects.count(), Task.objects.get(pk=task.pk).cost

    settings.AIOS_LLM_BASE_URL = ""  # replay must not depend on today's configuration
    set_budget("0")
    LLMCacheEntry.objects.all().delete()
    gateway = LLMGateway(task=task, step="classify", agent="test_classifier", replay=True)
    replayed = [
        gateway.structured(tier="fast", messages=MESSAGES, schema=Verdict, rules=by_rules),
        gateway.structured(tier="fast", messages=MESSAGES, schema=Verdict, rules=by_rules),
        gateway.structured(
            tier="fast", messages=[{"role": "user", "content": "blocked"}], schema=Verdict, rules=by_rules
        ),
        gateway.structured(
            tier="fast", messages=[{"role": "user", "content": "outage"}], schema=Verdict, rules=by_rules
        ),
    ]

    assert replayed == live
    assert [(r.value, r.tier_used, r.cache_hit, r.fell_back) for r in replayed] == [
        (Verdict(**GOOD), "fast", False, False),
        (Verdict(**GOOD), "fast", True, False),
        (Verdict(**RULES_VERDICT), "rules", False, True),
        (Verdict(**RULES_VERDICT), "rules", False, True),
    ]
    assert (llm_endpoint.count, LLMCall.objects.count(), LLMCacheEntry.objects.count()) == (requests, rows, 0)
    assert Task.objects.get(pk=task.pk).cost == cost

    with pytest.raises(ReplayMismatch, match="no further recorded LLM call"):
        gateway.structured(tier="fast", messages=MESSAGES, schema=Verdict, rules=by_rules)


def test_replay_refuses_a_question_that_was_not_recorded(llm_endpoint, task):
    llm_endpoint.script(Reply.json(GOOD))
    ask(task)

    with pytest.raises(ReplayMismatch, match="asks something else than recorded"):
        ask(task, messages=[{"role": "user", "content": "a different prompt"}], replay=True)
    assert llm_endpoint.count == 1


def test_replay_uses_the_last_attempt_of_the_step(llm_endpoint, task):
    llm_endpoint.script(Reply.json({"label": "no", "confidence": 0.1}), Reply.json(GOOD))
    ask(task)
    Task.objects.filter(pk=task.pk).update(attempts=2)
    task.refresh_from_db()
    LLMCacheEntry.objects.all().delete()  # the second attempt asks the model again
    second = ask(task)

    assert ask(task, replay=True).value == second.value == Verdict(**GOOD)


def test_an_endpoint_that_is_down_is_retried_then_falls_back(llm_endpoint, task, settings):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.AIOS_LLM_BASE_URL = f"http://127.0.0.1:{port}/v1"

    result = ask(task)

    assert result.fell_back is True and result.value == Verdict(**RULES_VERDICT)
    assert calls(task) == [("error", 0, 0, Decimal("0"), 3)]
    assert LLMCall.objects.get().error.startswith("connection:")


def test_the_wait_between_retries_grows_honours_retry_after_and_is_capped(llm_endpoint):
    # llm_endpoint shrank the waits: base 0.01 s, cap 0.05 s.
    assert 0.008 <= llm_http._backoff_seconds(attempt=1, retry_after=None) <= 0.012
    assert 0.032 <= llm_http._backoff_seconds(attempt=3, retry_after=None) <= 0.048
    assert llm_http._backoff_seconds(attempt=1, retry_after=0.04) == 0.04
    assert llm_http._backoff_seconds(attempt=1, retry_after=30) == 0.05
    assert llm_http._retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    assert llm_http._retry_after_seconds({"retry-after": "2"}) == 2.0
    assert llm_http._retry_after_seconds({"retry-after": "soon"}) is None
