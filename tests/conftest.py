import pytest

from core import services
from tests.factories import OperatorFactory
from tests.smtp import smtp_server  # noqa: F401 - a fixture for every test module

# `frozen_clock`: core.clock stands still for the test (tests/clock.py); `browser`: headless Chromium
# (tests/browser.py).
pytest_plugins = ["tests.clock", "tests.browser"]


@pytest.fixture
def operator(db):
    """The workspace's operator: a staff superuser who signs in with email."""
    return OperatorFactory()


@pytest.fixture
def workspace(db, operator):
    return services.workspace_configure(
        by=operator,
        name="Test Studio",
        operator_name="Test Operator",
        operator_email="operator@example.com",
        invoice_prefix="TS",
        default_currency="EUR",
        payment_terms_days=30,
    )


@pytest.fixture
def operator_client(client, operator):
    """A Django test client signed in as the operator."""
    client.force_login(operator)
    return client
