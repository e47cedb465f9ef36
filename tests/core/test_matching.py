"""The matching rules on their own (core.matching is pure: no database)."""

import datetime as dt
from decimal import Decimal

import pytest

from core.matching import Credit, MatchIndex, OpenInvoice, name_key, number_parts

D = Decimal


def invoice(number, client, amount, currency="EUR", due=None):
    sequence = int(number.rsplit("-", 1)[-1])
    return OpenInvoice(
        id=sequence + 1000 * int(number.split("-")[1][-1]),
        number=number,
        client_id=client,
        currency=currency,
        open_amount=D(amount),
        due_date=due or dt.date(2026, 11, 1) + dt.timedelta(days=sequence % 28),
    )


A, B, C = 1, 2, 3
INVOICES = [
    invoice("NW-2026-0042", A, "500.00"),
    invoice("NW-2026-0043", A, "250.00"),
    invoice("NW-2026-0044", A, "125.00"),
    invoice("NW-2026-0007", B, "990.00"),
    invoice("NW-2025-0042", C, "700.00"),
    invoice("NW-2026-0050", C, "80.00", currency="GBP"),
]
INDEX = MatchIndex(
    invoices=INVOICES,
    payer_ibans={"DE89 3704 0044 0532 0130 00": A, "GB29NWBK60161331926819": B},
    payer_names=[("Åsa Design AB", A), ("Grant & Fern Ltd", B), ("Cobalt Studio GmbH", C)],
)


def match(amount, text="", name="", iban="", currency="EUR"):
    credit = Credit(amount=D(amount), currency=currency, counterparty=name, iban=iban, remittance=text)
    return INDEX.match(credit)


@pytest.mark.parametrize(
    "text",
    [
        "NW-2026-0042",
        "Invoice nw20260042 thanks",
        "NW 2026/42",
        "Rechnung 2026-42",
        "Invoice no. 2026/42",
        "RE: Rechnungsnr. 2026-0042",
    ],
)
def test_the_invoice_number_in_any_spelling(text):
    found = match("500.00", text)
    assert (found.kind, found.numbers) == ("exact", ["NW-2026-0042"])


def test_the_sequence_alone_after_an_invoice_word_prefers_the_payers_invoice_across_years():
    # "inv 42" is NW-2026-0042 (client A) or NW-2025-0042 (client C): A's IBAN settles it.
    found = match("500.00", "inv 42", iban="DE89370400440532013000")
    assert (found.kind, found.numbers) == ("exact", ["NW-2026-0042"])
    # Without a known payer, the amount settles it ...
    assert match("700.00", "inv 42").numbers == ["NW-2025-0042"]
    # ... and with neither, the operator chooses.
    unsure = match("10.00", "inv 42")
    assert unsure.kind == "ambiguous" and sorted(unsure.numbers) == ["NW-2025-0042", "NW-2026-0042"]


def test_a_list_of_invoices_after_one_word_is_one_transfer_for_several():
    found = match("875.00", "Rechnungen 2026-42, 2026-43 und 2026-44")
    assert (found.kind, found.numbers) == ("several", ["NW-2026-0042", "NW-2026-0043", "NW-2026-0044"])
    assert [amount for _, amount in found.allocations] == [D("500.00"), D("250.00"), D("125.00")]


def test_partial_and_overpaid():
    partial = match("300.00", "NW-2026-0042 first half")
    assert partial.kind == "partial" and partial.allocations[0][1] == D("300.00")
    over = match("1000.00", "INV NW-2026-0007", name="Grant and Fern Ltd")
    assert (over.kind, over.credit_left) == ("overpaid", D("10.00"))
    # Several named, less paid: oldest due first, the rest open.
    short = match("600.00", "NW-2026-0042 NW-2026-0043")
    assert short.kind == "partial"
    assert [(inv.number, amount) for inv, amount in short.allocations] == [
        ("NW-2026-0042", D("500.00")),
        ("NW-2026-0043", D("100.00")),
    ]


def test_no_reference_known_payer_equal_amount_or_a_sum_of_their_invoices():
    assert match("250.00", "Thanks!", iban="DE89370400440532013000").numbers == ["NW-2026-0043"]
    # By name alone (accents, case and legal form aside).
    assert match("250.00", "", name="ASA DESIGN").numbers == ["NW-2026-0043"]
    several = match("375.00", "October work", name="Åsa Design AB")
    assert (several.kind, several.numbers) == ("several", ["NW-2026-0043", "NW-2026-0044"])
    unsure = match("1.00", "", iban="DE89370400440532013000")
    assert unsure.kind == "ambiguous" and unsure.numbers == ["NW-2026-0042", "NW-2026-0043", "NW-2026-0044"]


def test_an_unknown_payer_with_only_the_amount_goes_to_the_operator():
    found = match("990.00", "Payment", name="J. Smith")
    assert (found.kind, found.numbers, found.allocations) == ("ambiguous", ["NW-2026-0007"], [])
    assert match("45.50", "Refund", name="Hetzner Online GmbH").kind == "none"


def test_a_named_invoice_of_another_client_than_the_known_payer_is_never_matched():
    found = match("990.00", "Invoice NW-2026-0007", iban="DE89370400440532013000")  # A pays B's invoice
    assert found.kind == "ambiguous" and found.allocations == [] and found.client_id is None


def test_dates_and_other_numbers_are_not_invoice_references():
    # 2026-11-02 is a date, "11/2026" a month, the IBAN digits nothing: only the amount could count.
    assert match("500.00", "Transfer 2026-11-02 for 11/2026", name="Someone").kind == "ambiguous"
    assert match("3.00", "Order 2026-42-7 ref 99999", name="Someone").kind == "none"


def test_a_bare_year_sequence_counts_only_when_payer_or_amount_agrees():
    assert match("500.00", "2026-42").numbers == ["NW-2026-0042"]
    assert match("12.00", "Rent 2026-43", name="Someone").kind == "none"


def test_currency_must_agree():
    assert match("80.00", "NW-2026-0050", currency="EUR").kind == "none"
    assert match("80.00", "NW-2026-0050", currency="GBP").kind == "exact"


def test_helpers():
    assert number_parts("NW-2026-0042") == ("NW", 2026, 42)
    assert number_parts("INV2026/7") == ("INV", 2026, 7)
    assert number_parts("42") is None
    assert name_key("Petit Vélo S.A.R.L. & Co") == name_key("petit velo sarl and co")
