"""What the conductor raises to steer an attempt: to review, to wait, to stop."""

from __future__ import annotations

# Raised by agents and by the ports they use, so they are the agent kernel's; the conductor catches them.
from agents.kernel import BudgetDeferred, NeedsReview

__all__ = ["BudgetDeferred", "ClaimLost", "NeedsReview", "OutboxPending"]


class OutboxPending(Exception):
    """An email of the task is not confirmed sent yet; the attempt is retried later."""


class ClaimLost(Exception):
    """This worker no longer holds the task (cancelled, or presumed dead and re-claimed)."""
