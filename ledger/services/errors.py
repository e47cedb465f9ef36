"""What the conductor raises to steer an attempt: to review, to wait, to stop."""

from __future__ import annotations

# Raised by agents and by the ports they use, so they are the agent kernel's; the conductor catches them.
from agents.kernel import BudgetDeferred, NeedsReview

__all__ = ["BudgetDeferred", "ClaimLost", "DeliveryFailed", "NeedsReview", "OutboxPending"]


class OutboxPending(Exception):
    """An email of the task is not confirmed sent yet; the attempt is retried later."""


class ClaimLost(Exception):
    """This worker no longer holds the task (cancelled, or presumed dead and re-claimed)."""


class DeliveryFailed(Exception):
    """The mail server did not take an email of the task; the delivery policy decides what comes next."""

    def __init__(self, *, email_id: int, error: BaseException, for_good: bool) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.email_id = email_id
        self.error = error
        self.for_good = for_good
