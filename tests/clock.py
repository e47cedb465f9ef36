"""The `frozen_clock` fixture: core.clock stands still at a whole second for the test.

Registered for every test by tests/conftest.py; a test that asks for it gets the frozen time and derives
what it sends from it, so the code's comparisons with "now" are exact.
"""

import pytest

from core import clock


@pytest.fixture
def frozen_clock():
    # A whole second: Unix timestamps in headers and tokens are whole seconds.
    with clock.frozen(clock.now().replace(microsecond=0)) as at:
        yield at
