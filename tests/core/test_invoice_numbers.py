"""Invoice numbers as clients and banks write them, read back to the workspace's spelling."""

import pytest

from core.invoice_numbers import invoice_number_format, invoice_numbers_find, invoice_numbers_in


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("invoice NW-2026-0042 please", ["NW-2026-0042"]),
        ("NW20260042", ["NW-2026-0042"]),
        ("ref nw 2026/42", ["NW-2026-0042"]),
        ("Rechnung 2026-42", ["NW-2026-0042"]),
        ("Rechnung Nr. 2026/0042", ["NW-2026-0042"]),
        ("facture n° 2026-0005", ["NW-2026-0005"]),
        ("Zahlung RE 2026-42", ["NW-2026-0042"]),
        ("inv 42", ["NW-2026-0042"]),
        ("Invoice #7", ["NW-2026-0007"]),
        ("RE-Nr. 42", ["NW-2026-0042"]),
        ("NW-2026-0004\tNW-2026-0005 NW-2026-0004", ["NW-2026-0004", "NW-2026-0005"]),
        ("your invoice INV-7781 is attached", ["INV-7781"]),
    ],
)
def test_every_spelling_reads_back_to_ours(text, numbers):
    assert invoice_numbers_in(text, prefix="NW", year=2026) == numbers


@pytest.mark.parametrize(
    "text",
    [
        "invoice 12.11.2026",  # a date
        "the 2026 invoice",
        "invoice for the deposit",
        "PO-4411",
        "re 3 pages",  # "re" is a Rechnung only with a year
        "invoice 3:30",
        "Sum 1,200.00",
        "XNW-2026-0042",  # the head of another code
        "NW-2026-0000",
    ],
)
def test_what_is_no_invoice_number_is_not_read_as_one(text):
    assert invoice_numbers_in(text, prefix="NW", year=2026) == []


def test_a_bare_sequence_needs_a_year_to_be_ours():
    assert invoice_numbers_in("inv 42", prefix="NW") == []
    assert invoice_numbers_in("inv 42", prefix="NW", year=2025) == ["NW-2025-0042"]


def test_each_mention_says_where_it_stands():
    text = "Paid NW20260042 today"
    (ref,) = invoice_numbers_find(text, prefix="NW")

    assert (ref.number, ref.ours, text[ref.start : ref.end]) == ("NW-2026-0042", True, "NW20260042")
    assert invoice_number_format(prefix="AB", year=2027, sequence=5) == "AB-2027-0005"
