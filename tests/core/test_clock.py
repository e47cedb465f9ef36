"""core.clock: the real time, or a frozen one."""

import datetime as dt
import time

import pytest

from core import clock

AT = dt.datetime(2026, 3, 29, 0, 59, 59, 500_000, tzinfo=dt.UTC)


def test_the_real_clock_is_aware_and_agrees_with_time():
    before = time.time()

    now, stamp = clock.now(), clock.timestamp()

    assert now.tzinfo is not None
    assert before <= now.timestamp() <= time.time()
    assert before <= stamp <= time.time()


def test_a_frozen_clock_stands_still_until_the_block_ends():
    with clock.frozen(AT) as at:
        assert at == AT
        assert (clock.now(), clock.timestamp()) == (AT, AT.timestamp())
        assert (clock.now(), clock.timestamp()) == (AT, AT.timestamp())
        with clock.frozen(AT + dt.timedelta(days=1)):
            assert clock.now() == AT + dt.timedelta(days=1)
        assert clock.now() == AT

    assert clock.now() != AT


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"), clock.frozen(dt.datetime(2026, 1, 1)):
        pass
