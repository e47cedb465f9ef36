"""What an agent (or a port it uses) raises to tell the conductor how to treat a step that cannot finish."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from pydantic import BaseModel, ValidationError


class NeedsReview(Exception):
    """Raised by a step whose result cannot be trusted (e.g. invalid model output after repair and no
    rules fallback): retrying would not help, so the task goes straight to the operator."""


class BudgetDeferred(Exception):
    """A budget policy's cap is reached and this work is not critical: it waits (not an attempt)."""

    def __init__(self, reason: str, *, budgets: list[str] | None = None) -> None:
        super().__init__(reason)
        self.budgets = sorted(set(budgets or []))  # the names of the budget policies that were reached


class LLMUnavailable(Exception):
    """The model could not be reached after the retries (timeouts, 429, 5xx) and the agent has no rules.

    Not `NeedsReview`: the outage is likely transient, so the conductor's task retries (minutes apart)
    are the right answer; after the last one the task is dead-lettered for the operator.
    """


def schema_data_validate(
    schema: type[BaseModel] | None, data: Mapping[str, Any], *, prefix: str, root: str
) -> dict[str, Any]:
    """`data` as JSON-ready data, validated against `schema` when there is one. Errors come back as one
    Django ValidationError naming each bad field (`prefix` + its dotted path, `root` for the whole), so
    the API and the back office show them like any form error. Shared by workflow inputs and action
    payloads."""
    if schema is None:
        return dict(data)
    try:
        return schema.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        raise DjangoValidationError(
            {
                prefix + ".".join(str(part) for part in error["loc"]) if error["loc"] else root: error["msg"]
                for error in exc.errors(include_url=False)
            }
        ) from None
