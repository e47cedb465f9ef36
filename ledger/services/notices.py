"""Telling the operator that work waits for the LLM budget."""

from __future__ import annotations

from django.conf import settings

from core import selectors as core_selectors
from ledger.models import Task
from ledger.policy import month_start
from ledger.services.submit import task_submit


def budget_notice_submit(*, reason: str, budgets: list[str]) -> Task | None:
    """Tell the operator (once a month per reached budget) that work is waiting for the budget."""
    month = month_start().strftime("%Y-%m")
    names = budgets or ["LLM budget"]

    workspace = core_selectors.workspace_get()
    if workspace is None or not workspace.operator_email:
        return None
    return task_submit(
        workflow="notice.operator",
        input={
            "subject": f"LLM budget reached: {', '.join(names)}",
            "body": (
                f"{reason}\n\nNon-critical agent work is deferred and retried every "
                f"{settings.AIOS_BUDGET_DEFER_MINUTES} minutes; critical work runs on a cheaper tier. "
                "Raise the cap in the back office (Policies) to let it run now."
            ),
        },
        idempotency_key=f"notice:budget:{month}:{','.join(names)}"[:255],
        requested_by="system:budget",
    )
