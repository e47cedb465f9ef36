"""The demo mailbox: sample inbound mail imported on first start, so the approval queue of the demo
workspace already holds proposals, draft replies and reviews to look at (the worker runs the intake)."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from connectors.services import mail_ingest

DEMO_MAIL = Path(__file__).resolve().parent / "data" / "demo_mail"


def demo_mailbox_import(*, stdout: TextIO | None = None) -> dict[str, int]:
    """Ingest every demo mail once (a Message-ID seen before is a duplicate): counts by outcome."""
    counts: dict[str, int] = {}
    for path in sorted(DEMO_MAIL.glob("*.eml")):
        inbound = mail_ingest(raw=path.read_bytes(), path="file", source=f"demo:{path.name}")
        counts[inbound.status] = counts.get(inbound.status, 0) + 1
    if stdout is not None:
        summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
        stdout.write(f"Demo mailbox: {summary} (the worker turns them into proposals and replies)\n")
    return counts
