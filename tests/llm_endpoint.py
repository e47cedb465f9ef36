"""The LLM gateway pointed at the local OpenAI-protocol server, a budget, and a task to record calls on:
fixtures for the tests of the gateway (tests/ledger/llm) and of the agents that use it (tests/agents)."""

from decimal import Decimal

import pytest

from agents import summariser
from agents.kernel import Step, Workflow, workflow_register
from ledger import policy
from ledger.llm import http as llm_http
from ledger.models import ModelPrice, Policy, Task
from tests.agents.openai_server import openai_server  # noqa: F401 - a fixture

API_KEY = "sk-test-do-not-store-0123456789"
FAST_MODEL = "test-fast"


@pytest.fixture
def llm_endpoint(settings, openai_server, monkeypatch):  # noqa: F811 - the fixture above
    """The gateway pointed at the local server: fast model priced 1.25 USD/M in, 10 USD/M out."""
    settings.AIOS_LLM_BASE_URL = openai_server.url
    settings.AIOS_LLM_API_KEY = API_KEY
    settings.AIOS_LLM_MODEL_FAST = FAST_MODEL
    settings.AIOS_LLM_MODEL_QUALITY = ""
    settings.AIOS_LLM_TIMEOUT_SECONDS = 2
    settings.AIOS_LLM_MAX_RETRIES = 2
    set_budget("100.00")
    monkeypatch.setattr(llm_http, "RETRY_BASE_SECONDS", 0.01)
    monkeypatch.setattr(llm_http, "RETRY_MAX_SECONDS", 0.05)
    ModelPrice.objects.create(
        model=FAST_MODEL, input_per_million=Decimal("1.25"), output_per_million=Decimal("10")
    )
    return openai_server


# The gateway tests run as critical work: over a budget it drops to rules instead of deferring the task.
CRITICAL = workflow_register(
    Workflow(
        name="test.gateway.critical",
        steps=(Step(name="summarise", agent=summariser.ThreadSummariser.name),),
        critical=True,
    )
)


def set_budget(cap: str, *, name: str = "Monthly LLM budget", critical: str = "rules") -> Policy:
    """Set the workspace's monthly LLM budget policy (seeded by a migration) to `cap` USD."""
    existing = Policy.objects.filter(name=name).first()
    return policy.policy_save(
        policy=existing,
        by=None,
        name=name,
        kind="budget",
        params={"scope": "workspace", "monthly_cap": cap, "critical": critical},
    )


@pytest.fixture
def task(db):
    return Task.objects.create(
        workflow=CRITICAL.name,
        idempotency_key="gateway-test",
        requested_by_kind=Task.Requester.SYSTEM,
        requested_by_ref="test",
        attempts=1,
        status=Task.Status.RUNNING,
    )
