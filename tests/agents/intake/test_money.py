"""Budgets: number formats, ranges, currencies by symbol, code, word or the sender's domain, and the
amounts that are no budget (invoices, payments, rates, phones), in mails worded unlike the samples."""

import pytest

from tests.agents.intake.helpers import budget_of, money


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("We need a logo and could spend 2k EUR on it.", money("2000.00", "EUR")),
        ("We need a logo and could spend 2.5K EUR on it.", money("2500.00", "EUR")),
        ("For the new site we have 7,500 EUR.", money("7500.00", "EUR")),
        ("Wir brauchen eine neue Website, Budget 7.500 EUR.", money("7500.00", "EUR")),
        ("We need a new site, the budget is 7 500 EUR.", money("7500.00", "EUR")),
        ("Unser Budget für die neue Website: CHF 12'500.", money("12500.00", "CHF")),
        ("We need a landing page, our budget is 1.250,00 EUR.", money("1250.00", "EUR")),
        ("We need a landing page, our budget is 1,250.50 USD.", money("1250.50", "USD")),
        ("We need a new logo, budget eight hundred euros.", money("800.00", "EUR")),
    ],
    ids=["5k", "5.5K", "5,000", "5.000", "5 000", "8'000", "1.250,00", "1,250.50", "words"],
)
def test_budget_number_formats(body, expected):
    assert budget_of(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("A new website, somewhere between 4,000 and 6,000 EUR.", money("6000.00", "EUR")),
        ("We need a webshop; budget €8k–€10k.", money("10000.00", "EUR")),
        ("We need a webshop and think 8-10k EUR is realistic.", money("10000.00", "EUR")),
        ("We need a rebrand, anywhere from $3,000 to $4,500.", money("4500.00", "USD")),
    ],
)
def test_a_budget_range_gives_its_upper_bound(body, expected):
    assert budget_of(body) == expected


@pytest.mark.parametrize(
    ("body", "sender", "expected"),
    [
        ("We need a website for about €4,000.", None, money("4000.00", "EUR")),
        ("We need a website for about 4000€.", None, money("4000.00", "EUR")),
        ("We need a website, budget 4 000 euros.", None, money("4000.00", "EUR")),
        ("We need a website, budget EUR 4,000.", None, money("4000.00", "EUR")),
        ("We need a website, we can spend $4,000.", "Al <al@example.com>", money("4000.00", "USD")),
        ("We need a website, we can spend 4,000 USD.", None, money("4000.00", "USD")),
        ("We need a website, we can spend 4,000 US dollars.", None, money("4000.00", "USD")),
        ("We need a website; budget £3,200.", None, money("3200.00", "GBP")),
        ("We need a website; budget 3,200 GBP.", None, money("3200.00", "GBP")),
        ("We need a website; budget 3,200 pounds.", None, money("3200.00", "GBP")),
        ("We need a website; budget CHF 9'000.", None, money("9000.00", "CHF")),
        ("We need a website; budget 9'000 Swiss francs.", None, money("9000.00", "CHF")),
        ("Vi behöver en webbshop, budget 70 000 SEK.", None, money("70000.00", "SEK")),
        ("We want a webshop and can spend 70 000 kronor.", None, money("70000.00", "SEK")),
        ("We want a webshop, budget 70 000 kr.", "Sven <sven@example.se>", money("70000.00", "SEK")),
        ("We need a new logo; our budget is ¥300,000.", None, money("300000.00", "JPY")),
        ("We need a new logo; our budget is 300,000 yen.", None, money("300000.00", "JPY")),
        ("We need a new logo; our budget is JPY 300,000.", None, money("300000.00", "JPY")),
        ("We need a landing page, budget CAD 6,000.", None, money("6000.00", "CAD")),
        ("We need a landing page, budget C$6,000.", None, money("6000.00", "CAD")),
        ("We need a landing page, budget $6,000.", "Li <li@maple.ca>", money("6000.00", "CAD")),
        ("Necesitamos una landing page, presupuesto MXN 90,000.", None, money("90000.00", "MXN")),
        ("We need a landing page, budget 90 000 pesos.", None, money("90000.00", "MXN")),
        ("We need a landing page, budget AUD 5,000.", None, money("5000.00", "AUD")),
        ("We need a landing page, budget 20 000 NOK.", None, money("20000.00", "NOK")),
    ],
)
def test_the_currency_comes_from_the_symbol_code_or_word(body, sender, expected):
    assert budget_of(body, **({"sender": sender} if sender else {})) == expected


def test_a_budget_without_a_currency_takes_the_catalogues_currency():
    assert budget_of("We need a new website; our budget is 3000.") == money("3000.00", "EUR")


@pytest.mark.parametrize(
    "body",
    [
        "We need a website. Our old agency charged us €9,000 for the last one.",
        "We need a website. Your hourly rate of €95 is fine with us.",
        "We need a website. Your rate of 650 EUR per page looks fair.",
        "We need a website; call me on +46 70 123 45 67 or 070-123 45 67.",
        "We need a website. Last year we paid 3,000 EUR for hosting.",
        "We need a website to sell our mugs, they retail at €25.",
        "We need a website. We have 40 products and 3 shops in 2026.",
    ],
)
def test_invoice_payment_rate_and_phone_amounts_are_not_budgets(body):
    assert budget_of(body) is None


def test_the_budget_is_found_next_to_a_rate_in_the_same_sentence():
    body = "We need a UX review; your rate is €90 per hour and our budget is €1,800."

    assert budget_of(body) == money("1800.00", "EUR")
