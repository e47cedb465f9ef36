"""Budget policies through the conductor: non-critical work is deferred (and the operator told), critical
work drops to a cheaper tier or to rules, an agent's own cap touches only that agent."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from agents.summariser import extractive_summary
from ledger import policy, services
from ledger.models import LLMCall, Task, TaskEvent
from tests.agents.openai_server import Reply
from tests.agents.test_summariser import MODEL_SUMMARY, THREAD
from tests.llm_endpoint import CRITICAL, FAST_MODEL, set_budget

pytestmark = pytest.mark.django_db

QUALITY_MODEL = "test-quality"


def spend(amount: str, *, agent: str = "someone_else") -> None:
    LLMCall.objects.create(
        model=FAST_MODEL, tier="fast", agent=agent, prompt_hash="x" * 64, cost=Decimal(amount)
    )


def submit(workflow="text.summarise", key="b1") -> Task:
    return services.task_submit(
        workflow=workflow,
        input={"text": THREAD, "max_sentences": 2},
        idempotency_key=key,
        requested_by="system:test",
    )


def test_over_the_cap_non_critical_work_is_deferred_and_the_operator_told(
    llm_endpoint, workspace, settings, django_capture_on_commit_callbacks
):
    settings.AIOS_BUDGET_DEFER_MINUTES = 30
    set_budget("5.00")
    spend("5.00")
    llm_endpoint.script(then=Reply.json(MODEL_SUMMARY))
    task = submit()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.task_execute(task_id=task.pk) == "deferred"

    task.refresh_from_db()
    assert (task.status, task.attempts) == ("retrying", 0), "a deferral is not an attempt"
    wait = task.next_attempt_at - timezone.now()
    assert dt.timedelta(minutes=29) < wait <= dt.timedelta(minutes=30)
    assert llm_endpoint.count == 0
    deferred = task.events.get(kind=TaskEvent.Kind.DEFERRED)
    assert "'Monthly LLM budget': 5.000000 of 5.00 USD" in deferred.message
    assert list(task.llm_calls.values_list("outcome", flat=True)) == ["blocked"]
    notice = Task.objects.get(workflow="notice.operator")
    assert notice.input["subject"] == "LLM budget reached: Monthly LLM budget"
    assert services.task_execute(task_id=notice.pk) == "succeeded"
    from django.core import mail

    (sent,) = mail.outbox
    assert sent.to == ["operator@example.com"] and "Monthly LLM budget" in sent.subject

    # Raising the cap lets the deferred work run when it is tried again.
    set_budget("50.00")
    Task.objects.filter(pk=task.pk).update(next_attempt_at=timezone.now())
    assert services.task_execute(task_id=task.pk) == "succeeded"
    assert llm_endpoint.count == 1


def test_over_the_cap_critical_work_runs_on_its_rules(llm_endpoint):
    set_budget("1.00")
    spend("2.00")
    llm_endpoint.script(then=Reply.json(MODEL_SUMMARY))
    task = submit(workflow=CRITICAL.name)

    assert services.task_execute(task_id=task.pk) == "succeeded"

    task.refresh_from_db()
    assert task.output["steps"]["summarise"] == extractive_summary(text=THREAD, max_sentences=2).model_dump()
    assert llm_endpoint.count == 0
    blocked = task.llm_calls.get()
    assert blocked.outcome == "blocked" and "critical work drops to rules" in blocked.error


def test_cheaper_drops_critical_quality_work_to_the_fast_model(llm_endpoint, settings, task):
    from pydantic import BaseModel

    from ledger.llm import LLMGateway

    settings.AIOS_LLM_MODEL_QUALITY = QUALITY_MODEL
    set_budget("1.00", critical="cheaper")
    spend("2.00")
    llm_endpoint.script(then=Reply.json({"answer": "yes"}))

    class Answer(BaseModel):
        answer: str

    gateway = LLMGateway(task=task, step="ask", agent="test_agent")
    result = gateway.structured(tier="quality", messages=[{"role": "user", "content": "?"}], schema=Answer)

    assert (result.value.answer, result.tier_used, result.model) == ("yes", "fast", FAST_MODEL)
    assert llm_endpoint.received[0].body["model"] == FAST_MODEL
    assert list(task.llm_calls.order_by("id").values_list("model", "outcome")) == [
        (QUALITY_MODEL, "blocked"),
        (FAST_MODEL, "ok"),
    ]


def test_an_agent_cap_stops_only_that_agent(llm_endpoint, workspace, django_capture_on_commit_callbacks):
    set_budget("100.00")
    policy.policy_save(
        by=None,
        name="Summaries: 1 USD",
        kind="budget",
        params={"scope": "agent", "agent": "thread_summariser", "monthly_cap": "1.00"},
    )
    spend("1.50", agent="thread_summariser")
    assert [p.name for p, _ in policy.budgets_reached(agent="thread_summariser")] == ["Summaries: 1 USD"]
    assert policy.budgets_reached(agent="mail_composer") == []
    llm_endpoint.script(then=Reply.json(MODEL_SUMMARY))

    with django_capture_on_commit_callbacks(execute=True):
        assert services.task_execute(task_id=submit(key="agent-cap").pk) == "deferred"
    assert llm_endpoint.count == 0
    notice = Task.objects.get(workflow="notice.operator")
    assert notice.input["subject"] == "LLM budget reached: Summaries: 1 USD"


def test_last_months_spend_does_not_count(llm_endpoint):
    set_budget("1.00")
    spend("5.00")
    LLMCall.objects.update(created_at=policy.month_start() - dt.timedelta(seconds=1))
    llm_endpoint.script(then=Reply.json(MODEL_SUMMARY))
    assert services.task_execute(task_id=submit(key="new-month").pk) == "succeeded"
    assert llm_endpoint.count == 1
