"""The demo workspace as the operator starts it: records (core.demo), the demo mailbox (connectors.demo), and
the demo password, which the operator may set in the environment."""

from __future__ import annotations

from typing import TextIO

from aios.env import env_str
from connectors.demo import demo_mailbox_import
from core.demo import DEFAULT_DEMO_PASSWORD, demo_seed
from ledger.reminders import receivables_sweep


def demo_password() -> str:
    return env_str("AIOS_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


def demo_workspace_create(*, stdout: TextIO | None = None) -> None:
    """Seed the demo records, import the demo mailbox (the worker turns it into proposals), and run the
    receivables sweep once so the overdue invoice's first reminder waits for approval."""
    demo_seed(password=demo_password(), stdout=stdout)
    demo_mailbox_import(stdout=stdout)
    swept = receivables_sweep(any_hour=True)
    if stdout is not None:
        drafted = swept["reminders"]
        stdout.write(f"Receivables: {swept['overdue']} marked overdue, {drafted} reminder(s) drafted.\n")
