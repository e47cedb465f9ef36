"""One request to the OpenAI-compatible endpoint, with bounded retries, through the `openai` SDK."""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from pydantic import BaseModel

from core import clock
from ledger.llm.answers import json_schema

logger = logging.getLogger(__name__)

# Retry n (1-based) waits RETRY_BASE_SECONDS · 2^(n-1) ± 20 %, or what Retry-After asks if that is
# longer, never more than RETRY_MAX_SECONDS: a step must not sit for minutes on one call — the task's
# own retries cover longer outages. Module constants so tests can shrink them.
RETRY_BASE_SECONDS = 0.5
RETRY_MAX_SECONDS = 8.0
RETRYABLE_STATUS = frozenset({408, 429})  # and every 5xx

ERROR_TEXT_LIMIT = 4000


@dataclass
class Exchange:
    """The outcome of one request to the endpoint, retries included."""

    text: str | None
    tokens_in: int
    tokens_out: int
    attempts: int
    latency_ms: int
    error: str = ""
    transient: bool = False


def request(*, model: str, messages: list[dict[str, Any]], schema: type[BaseModel]) -> Exchange:
    """Ask `model` for JSON matching `schema`; transient failures are retried with backoff and counted."""
    # Imported here: the SDK takes ~0.4 s to import, which an offline workspace never needs to pay.
    import openai

    started = time.monotonic()
    attempts = 0
    retries = settings.AIOS_LLM_MAX_RETRIES
    response_format = {
        "type": "json_schema",
        "json_schema": {
            "name": re.sub(r"[^a-zA-Z0-9_-]", "_", schema.__name__)[:64],
            "schema": json_schema(schema),
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
                error = "timeout" if isinstance(exc, openai.APITimeoutError) else f"connection: {exc.message}"
            except openai.OpenAIError as exc:  # e.g. a 200 whose body is not a completion
                transient, retry_after, error = False, None, f"{type(exc).__name__}: {exc}"
            else:
                usage = completion.usage
                text = completion.choices[0].message.content if completion.choices else None
                return Exchange(
                    text=text,
                    tokens_in=usage.prompt_tokens if usage else 0,
                    tokens_out=usage.completion_tokens if usage else 0,
                    attempts=attempts,
                    latency_ms=elapsed_ms(),
                )
            if not transient or attempts > retries:
                logger.warning("LLM call to %s failed after %d attempt(s): %s", model, attempts, error)
                return Exchange(
                    text=None,
                    tokens_in=0,
                    tokens_out=0,
                    attempts=attempts,
                    latency_ms=elapsed_ms(),
                    error=error[:ERROR_TEXT_LIMIT],
                    transient=transient,
                )
            time.sleep(_backoff_seconds(attempt=attempts, retry_after=retry_after))


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
                return (parsedate_to_datetime(value) - clock.now()).total_seconds()
            except (TypeError, ValueError):
                return None
    return None


def _backoff_seconds(*, attempt: int, retry_after: float | None) -> float:
    delay = RETRY_BASE_SECONDS * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)  # noqa: S311 - jitter only
    return max(0.0, min(RETRY_MAX_SECONDS, max(delay, retry_after or 0.0)))
