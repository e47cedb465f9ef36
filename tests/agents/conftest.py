from decimal import Decimal

import pytest

from agents import llm
from ledger.models import ModelPrice, Task
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
    settings.AIOS_LLM_MONTHLY_BUDGET = "100.00"
    monkeypatch.setattr(llm, "RETRY_BASE_SECONDS", 0.01)
    monkeypatch.setattr(llm, "RETRY_MAX_SECONDS", 0.05)
    ModelPrice.objects.create(
        model=FAST_MODEL, input_per_million=Decimal("1.25"), output_per_million=Decimal("10")
    )
    return openai_server


@pytest.fixture
def task(db):
    return Task.objects.create(
        workflow="text.summarise",
        idempotency_key="gateway-test",
        requested_by_kind=Task.Requester.SYSTEM,
        requested_by_ref="test",
        attempts=1,
        status=Task.Status.RUNNING,
    )
