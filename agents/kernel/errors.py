"""What an agent (or a port it uses) raises to tell the conductor how to treat a step that cannot finish."""

from __future__ import annotations


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
