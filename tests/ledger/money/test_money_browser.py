"""The money pages in a real headless Chromium at phone size (375×667): signed in through the login form,
`/money/` and an invoice's page with long names, remittances and IBANs fit the screen (nothing scrolls
sideways), their links are big enough to tap, and full-page screenshots are saved (var/test-artifacts/, or
$AIOS_TEST_ARTIFACTS) to look at."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core import services
from tests.browser import assert_fits_the_phone, phone_signed_in, screenshot
from tests.conftest import BUSINESS_DETAILS
from tests.factories import OperatorFactory
from tests.ledger.money.states import Credit, bank_entries, overdue_invoice, pay, remind

AMBIGUOUS = {
    "kind": "ambiguous",
    "invoices": ["TS-2026-0001", "TS-2026-0002"],
    "reasons": ["the amount fits two invoices"],
}


@pytest.fixture
def operator(transactional_db):
    """The operator of a workspace with its business details (invoices are issued)."""
    cache.clear()  # sign-in rate limits live in the database cache, which a flush does not empty
    operator = OperatorFactory()
    services.workspace_configure(
        by=operator,
        name="Test Studio",
        operator_name="Test Operator",
        operator_email="operator@example.com",
        invoice_prefix="TS",
        default_currency="EUR",
        payment_terms_days=30,
        **BUSINESS_DETAILS,
    )
    return operator


@pytest.fixture
def phone(browser, live_server, operator):
    with phone_signed_in(browser, live_server.url, operator, start="/money/") as page:
        yield page


def shoot(page, name: str) -> None:
    screenshot(page, f"money-{name}")


def test_the_money_pages_fit_a_phone(phone, live_server, operator):
    invoice = overdue_invoice(operator, name="Aktiebolaget Långnamnsbageriet i Norra Stockholm", days=45)
    remind(invoice, operator)
    pay(overdue_invoice(operator, name="Paid AB", email="ap@paid.example"), operator)
    bank_entries(
        operator,
        [
            Credit("150.00", "J. Smith", "INVOICE-PAYMENT-" + "X" * 80 + " thanks", "ambiguous", AMBIGUOUS),
            Credit("19.00", "Unknown payer with a long name GmbH & Co. KG", "", "none", {"kind": "none"}),
        ],
    )

    phone.goto(f"{live_server.url}/money/")
    assert phone.locator("h1").inner_text() == "Money"
    assert phone.locator("#unmatched .queue-item").count() == 2
    assert "45 days overdue" in phone.locator("#overdue").inner_text()
    assert_fits_the_phone(phone, ".link-button", "#overdue .queue-title", ".filters a")
    shoot(phone, "overview")

    phone.click(f'a[href="/money/invoices/{invoice.pk}/"]')
    phone.wait_for_url(f"**/money/invoices/{invoice.pk}/")
    assert phone.locator(".timeline-event").count() >= 7
    assert_fits_the_phone(phone, ".link-button", ".back")
    shoot(phone, "invoice")
