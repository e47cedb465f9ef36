"""Ports: the calls the core layer makes into the layers above it, without importing them.

Core is the bottom layer (DESIGN §2): it may not import the ledger, agents or connectors. Where a core
service must cause work above it, it calls a port defined here, and the higher app wires an
implementation in its `AppConfig.ready` (see `ledger.apps`). A port has one implementation; calling one
that nobody wired is a bug at start-up, so it raises instead of doing nothing. Tests never rewire ports:
the implementation under test is the real one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class PortNotWired(RuntimeError):
    pass


class Port:
    def __init__(self, name: str) -> None:
        self.name = name
        self._implementation: Callable[..., Any] | None = None

    def wire(self, implementation: Callable[..., Any]) -> None:
        self._implementation = implementation

    @property
    def wired(self) -> bool:
        return self._implementation is not None

    def __call__(self, **kwargs: Any) -> Any:
        if self._implementation is None:
            raise PortNotWired(
                f"port {self.name} has no implementation: is the app that provides it installed?"
            )
        return self._implementation(**kwargs)

    def __repr__(self) -> str:
        return f"Port({self.name!r}, wired={self.wired})"


# A record says something worth remembering: queue its capture into memory as a ledger task.
# Called after commit with label="core.message", pk=…; returns the task, or None when the record says
# nothing to remember. Wired by the ledger: ledger.memory_jobs.memory_capture_submit.
memory_capture_submit = Port("memory_capture_submit")

# A recall was made for a running task: record it on the task's timeline (in the recall's transaction).
# Called with recall=<core MemoryRecall> (its task, step, query and mode) and items=[item ids, best first].
# Wired by the ledger: ledger.memory_jobs.memory_recall_record.
memory_recalled = Port("memory_recalled")

# The operator asks for a client's data to be exported or erased (the client page's actions): start that
# work in the ledger, where it waits for the operator's approval. Called with client=<Client>,
# kind="export" | "erase", by=<user>; returns the task. Wired by the ledger:
# ledger.privacy.services.client_data_request.
client_data_request = Port("client_data_request")

# The operator asks for an invoice to be sent by email with its PDF (the invoice admin's action): an
# `invoice.send` task writes the email and the ledger asks before it leaves. Called with invoice=<Invoice>,
# requested_by=<user>; returns the task. Wired by the ledger: ledger.services.invoice_send_request.
invoice_send_request = Port("invoice_send_request")

# The invoice's timeline (issued, sent, reminded, paid … with the tasks that did it) for its back-office
# page: it reads the ledger's tasks and actions, so the ledger builds it. Called with invoice_id=…; returns
# the events oldest first (each with at, kind, title, detail, by, task_id, payment_id). Wired by the
# ledger: ledger.money.timeline.invoice_timeline_events.
invoice_timeline = Port("invoice_timeline")
