"""What the conductor raises to steer an attempt: to review, to wait, to stop."""

from __future__ import annotations


class NeedsReview(Exception):
    """Raised by a step whose result cannot be trusted (e.g. invalid model output after repair and no
    rules fallback): retrying would not help, so the task goes straight to the operator."""


class OutboxPending(Exception):
    """An email of the task is not confirmed sent yet; the attempt is retried later."""


class BudgetDeferred(Exception):
    """A budget policy's cap is reached and this work is not critical: it waits (not an attempt)."""

    def __init__(self, reason: str, *, budgets: list[str] | None = None) -> None:
        super().__init__(reason)
        self.budgets = sorted(set(budgets or []))  # the names of the budget policies that were reached


class ClaimLost(Exception):
    """This worker no longer holds the task (cancelled, or presumed dead and re-claimed)."""
