"""The workspace's one clock: code that decides by the time reads it here, so a test can set the time.

Reading the real clock twice gives two different times; a test that derives a value from one reading
and lets the code compare it with a later one is right or wrong by a few microseconds. Under
`frozen(at)` every reading is `at`, so such a comparison is exact.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_frozen_at: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return _frozen_at if _frozen_at is not None else datetime.now(UTC)


def timestamp() -> float:
    """The current time in seconds since the Unix epoch."""
    return _frozen_at.timestamp() if _frozen_at is not None else time.time()


@contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Every reading of the clock is `at` (an aware datetime) until the block ends."""
    global _frozen_at
    if at.tzinfo is None:
        raise ValueError("frozen() needs a timezone-aware datetime")
    before, _frozen_at = _frozen_at, at
    try:
        yield at
    finally:
        _frozen_at = before
