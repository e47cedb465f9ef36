"""Deadlines: explicit dates and their next occurrence, end/mid/early of a month, quarters, "within N
weeks" from the Date header, several dates, and dates that are no delivery date."""

import pytest

from tests.agents.intake.helpers import deadline_of, extract


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("We need a new website ready by 20 March 2027.", "2027-03-20"),
        ("We need a new website ready by March 20, 2027.", "2027-03-20"),
        ("We need a new website ready by 2027-03-20.", "2027-03-20"),
        ("Wir brauchen die Website bis 20.03.2027.", "2027-03-20"),
        ("We need a new website ready by the 20th of March.", "2027-03-20"),
        ("We need the landing page live on 30 November.", "2026-11-30"),  # later this year
        ("We need the landing page live on 2 November.", "2027-11-02"),  # passed: next year
        ("We need the landing page live on 5 November.", "2026-11-05"),  # the mail's own day
    ],
)
def test_an_explicit_date_as_written_or_its_next_occurrence(body, expected):
    assert deadline_of(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("We need a webshop, live at the end of January.", "2027-01-31"),
        ("We need a webshop that is live by end of February.", "2027-02-28"),
        ("We need a webshop, live by the end of November.", "2026-11-30"),
        ("We need a webshop, live by end of October.", "2027-10-31"),
        ("We need a webshop, live by the end of February 2028.", "2028-02-29"),
        ("Wir brauchen einen Webshop bis Ende April.", "2027-04-30"),
    ],
)
def test_end_of_a_month_is_its_last_day(body, expected):
    assert deadline_of(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("We need the rebrand done by mid-April.", "2027-04-15"),
        ("We need the rebrand done by mid April.", "2027-04-15"),
        ("We need the rebrand done by the middle of December.", "2026-12-15"),
    ],
)
def test_mid_month_is_the_15th(body, expected):
    assert deadline_of(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("We need the illustrations at the beginning of June.", "2027-06-01"),
        ("We need the illustrations in early June.", "2027-06-01"),
        ("We need the illustrations by the start of December.", "2026-12-01"),
    ],
)
def test_beginning_or_early_month_is_the_1st(body, expected):
    assert deadline_of(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("We plan to launch the new site in Q2.", "2027-06-30"),
        ("We plan to launch the new site in Q4.", "2026-12-31"),
        ("We plan to launch the new site by end of Q1 2028.", "2028-03-31"),
        ("We plan to launch the new site in the third quarter.", "2027-09-30"),
    ],
)
def test_a_quarter_is_its_last_day(body, expected):
    assert deadline_of(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Could you deliver the logo within 3 weeks?", "2026-11-26"),
        ("Could you deliver the logo within three weeks?", "2026-11-26"),
        ("We need the landing page within 10 days.", "2026-11-15"),
        ("We need the landing page in 2 weeks.", "2026-11-19"),
        ("We need the landing page within 10 business days.", "2026-11-19"),
    ],
)
def test_within_n_weeks_or_days_counts_from_the_date_header(body, expected):
    assert deadline_of(body) == expected


def test_today_is_the_day_of_the_date_header_in_its_timezone():
    # 23:30 in New York is already the next day in UTC: the sender's day counts.
    body = "We need the landing page live today, can you help?"

    assert deadline_of(body, date="Thu, 05 Nov 2026 23:30:00 -0500") == "2026-11-05"


def test_with_several_dates_the_final_delivery_counts():
    body = (
        "We need a new website. Could we see first designs by 1 December, the texts by mid-January, "
        "and launch on 15 February?"
    )

    assert deadline_of(body) == "2027-02-15"


@pytest.mark.parametrize(
    "body",
    [
        "We need a new website, no rush at all.",
        "We need a new website. We were founded on 3 March 2015.",
        "We need a new website. Can we have a call on 12 November to talk about it?",
        "We need a new website. I'm on holiday until 20 November.",
        "We need a new website and could start on 1 December.",
    ],
)
def test_dates_that_are_no_delivery_date_are_ignored(body):
    assert deadline_of(body) is None


def test_a_meeting_date_does_not_hide_the_delivery_date():
    body = "We need a new website. Can we talk on 12 November? It has to be live by 1 February."

    fields = extract(body).contract()

    assert (fields["intent"], fields["deadline"]) == ("new_inquiry", "2027-02-01")
