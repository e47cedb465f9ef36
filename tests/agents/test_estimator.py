"""The estimator's rules: quantities read from the mail, minimums, the budget check that says so."""

from decimal import Decimal

import pytest

from agents.estimator import EstimateInput, ServiceRule, estimate, quantity_in

RULES = [
    ServiceRule(key="website", name="Marketing website", unit="page", unit_price=Decimal("650.00"),
                currency="EUR", min_units=Decimal("3")),
    ServiceRule(key="copywriting", name="Copywriting", unit="page", unit_price=Decimal("180.00"),
                currency="EUR", min_units=Decimal("1")),
    ServiceRule(key="logo", name="Logo design", unit="package", unit_price=Decimal("900.00"),
                currency="EUR", min_units=Decimal("1")),
    ServiceRule(key="illustration", name="Custom illustration", unit="piece", unit_price=Decimal("250.00"),
                currency="EUR", min_units=Decimal("1")),
    ServiceRule(key="maintenance", name="Maintenance retainer", unit="month", unit_price=Decimal("300.00"),
                currency="EUR", min_units=Decimal("3")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("We are thinking about 6 pages (home, about, menu)", "page", Decimal(6)),
        ("a site with ten pages and a blog", "page", Decimal(10)),
        ("twelve custom illustrations for the app", "piece", Decimal(12)),
        ("support for 6 months after launch", "month", Decimal(6)),
        ("call me on 0701 234 567", "page", None),
        ("4 pages now, maybe 8 pages later", "page", Decimal(8)),
    ],
)
def test_quantities_are_read_for_the_rules_unit(text, unit, expected):
    assert quantity_in(text, unit)[0] == expected


def test_lines_follow_the_mail_and_copy_follows_the_sites_pages():
    result = estimate(
        input=EstimateInput(
            services=["website", "copywriting"],
            text="A new site of 6 pages, and we need help with the texts.",
            budget_amount=Decimal("5000.00"),
            budget_currency="EUR",
            rules=RULES,
        )
    )
    assert [(line.service_key, line.quantity, line.amount) for line in result.lines] == [
        ("website", Decimal(6), Decimal("3900.00")),
        ("copywriting", Decimal(6), Decimal("1080.00")),
    ]
    assert result.total == Decimal("4980.00") and result.currency == "EUR"
    assert result.over_budget is False
    assert "within the stated budget 5000.00 EUR" in result.budget_note


def test_an_estimate_over_the_budget_says_so_and_lowers_the_confidence():
    result = estimate(
        input=EstimateInput(
            services=["website"],
            text="We need 10 pages.",
            budget_amount=Decimal("3000"),
            budget_currency="EUR",
            rules=RULES,
        )
    )
    assert result.total == Decimal("6500.00")
    assert result.over_budget is True
    assert "over the stated budget 3000 EUR by 3500.00 EUR" in result.budget_note
    assert result.confidence <= 0.5


def test_minimums_apply_and_a_budget_in_another_currency_is_flagged_not_compared():
    result = estimate(
        input=EstimateInput(
            services=["website", "maintenance", "unknown_service"],
            text="A small site, two pages, and someone to look after it.",
            budget_amount=Decimal("30000"),
            budget_currency="SEK",
            rules=RULES,
        )
    )
    maintenance, website = result.lines
    assert (website.quantity, website.amount) == (Decimal(3), Decimal("1950.00"))
    assert (maintenance.quantity, maintenance.quantity_source) == (Decimal(3), "minimum of the pricing rule")
    assert result.over_budget is False
    assert "no exchange rate" in result.budget_note
    assert any("No pricing rule for 'unknown_service'" in reason for reason in result.reasons)
    assert result.confidence <= 0.7
