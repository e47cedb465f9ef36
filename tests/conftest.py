import pytest

from core import services
from tests.factories import OperatorFactory
from tests.redis_server import redis_url  # noqa: F401 - a fixture for every test module
from tests.smtp import smtp_server  # noqa: F401 - a fixture for every test module

# `frozen_clock`: core.clock stands still for the test (tests/clock.py); `browser`: headless Chromium
# (tests/browser.py).
pytest_plugins = ["tests.clock", "tests.browser"]


# The seller's details every invoice carries (valid Swedish VAT ID, IBAN and BIC).
BUSINESS_DETAILS = {
    "legal_name": "Test Studio AB",
    "street": "Storgatan 1",
    "postcode": "111 22",
    "city": "Stockholm",
    "country": "SE",
    "vat_id": "SE556677880801",
    "iban": "SE4550000000058398257466",
    "bic": "ESSESESS",
    "default_tax_rate": "25",
    "late_payment_text": "Interest on late payment: the reference rate plus 8 percentage points.",
}


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
        **BUSINESS_DETAILS,
    )


@pytest.fixture
def operator_client(client, operator):
    """A Django test client signed in as the operator."""
    client.force_login(operator)
    return client
