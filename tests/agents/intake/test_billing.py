"""Mail about proposals, invoices and payments: the billing samples (tests/agents/data/billing/, copied
from the shared fixtures) through `manage.py intake_extract`, then general rules on mail written here in
other words and languages: yes and no to a proposal, a payment said to be made (and one that is not),
the invoice numbers it names, and its amount, currency and day."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from agents.intake import CONTRACT_FIELDS
from tests.agents.intake.helpers import extract

BILLING = Path(__file__).resolve().parents[1] / "data" / "billing"
BILLING_EXPECTED = json.loads((BILLING / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.django_db
@pytest.mark.parametrize("expected", BILLING_EXPECTED, ids=[entry["file"] for entry in BILLING_EXPECTED])
def test_the_command_reads_the_billing_samples(expected):
    out = io.StringIO()
    call_command("intake_extract", str(BILLING / expected["file"]), stdout=out)
    output = json.loads(out.getvalue())

    assert list(output) == list(CONTRACT_FIELDS)
    for field in ("intent", "sender_email", "invoice_numbers", "payment"):
        assert output[field] == expected[field], field


@pytest.mark.django_db
def test_the_command_reads_numbers_in_the_workspaces_own_prefix(workspace, tmp_path):
    mail = tmp_path / "paid.eml"
    mail.write_bytes(
        b"From: a@b.example\r\nTo: x@y.example\r\nSubject: Paid\r\nDate: Mon, 02 Nov 2026 10:00:00 +0100\r\n"
        b"\r\nWe transferred 100.00 EUR for invoice TS20260003 and NW-2026-0004 today.\r\n"
    )
    out = io.StringIO()
    call_command("intake_extract", str(mail), stdout=out)

    # TS is the test workspace's prefix; NW-2026-0004 is somebody else's number and kept as written.
    assert json.loads(out.getvalue())["invoice_numbers"] == ["TS-2026-0003"]


# --- Yes and no to a proposal ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Re: Proposal: Website", "We're happy to proceed with the proposal. Please send over the contract."),
        ("Re: Your quote", "Sounds good, go ahead!"),
        ("Re: Proposal", "Signed proposal attached. When can you start?"),
        ("Quote 14", "We accept your quote for the logo work. Looking forward to it."),
        ("Re: Angebot", "Hallo Mara, wir nehmen Ihr Angebot an. Viele Grüße"),
        ("Re: Devis", "Bonjour, le devis est validé, on y va !"),
        ("Re: Offert", "Hej Mara! Vi godkänner offerten, kör på."),
        ("Re: Proposal: Brand", "Approved! Could the mock-ups come a week later though?"),
    ],
)
def test_a_yes_to_a_proposal_is_an_acceptance(subject, body):
    fields = extract(body, subject=subject)

    assert fields.intent == "acceptance"
    assert (fields.budget, fields.services, fields.payment) == (None, [], None)


@pytest.mark.parametrize(
    ("subject", "body"),
    [
        ("Re: Proposal", "Unfortunately we have decided not to proceed with the project."),
        ("Re: Proposal: Logo", "Thanks Mara, we'll pass on this one for now."),
        ("Re: Quote", "We've decided to go with another studio. Thanks for your time."),
        ("Re: Offert", "Hej! Vi tackar nej den här gången."),
        ("Re: Angebot", "Leider müssen wir Ihnen absagen, das Budget wurde gestrichen."),
    ],
)
def test_a_no_to_a_proposal_is_a_decline(subject, body):
    assert extract(body, subject=subject).intent == "decline"


def test_a_yes_that_is_only_a_condition_is_no_acceptance():
    fields = extract("If we go ahead, when could you start? We need a new website, budget 5000 EUR.")

    assert fields.intent == "new_inquiry"


# --- Payments ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "numbers", "payment"),
    [
        ("Invoice NW-2026-0012 has been paid. Regards", ["NW-2026-0012"], None),
        (
            "We've sent the payment this morning, €1.500,00 for Rechnung NW-2026-0014.",
            ["NW-2026-0014"],
            {"amount": "1500.00", "currency": "EUR", "paid_on": "2026-11-05"},
        ),
        (
            "Payment of 450 GBP was made on 3 Nov for invoice 2026-7.",
            ["NW-2026-0007"],
            {"amount": "450.00", "currency": "GBP", "paid_on": "2026-11-03"},
        ),
        (
            "Hallo, die Rechnung NW20260015 wurde gestern überwiesen (1.190,00 EUR).",
            ["NW-2026-0015"],
            {"amount": "1190.00", "currency": "EUR", "paid_on": "2026-11-04"},
        ),
        (
            "Paid! Transferred 800 EUR on Monday for inv 11.",
            ["NW-2026-0011"],
            {"amount": "800.00", "currency": "EUR", "paid_on": "2026-11-02"},
        ),
    ],
)
def test_a_payment_said_to_be_made_is_a_payment_notice_with_its_amount_and_day(body, numbers, payment):
    # The mails are dated Thursday 5 November 2026 (helpers.DATE).
    fields = extract(body, subject="Payment")

    assert fields.intent == "payment_notice"
    assert fields.invoice_numbers == numbers
    assert (fields.payment.model_dump(mode="json") if fields.payment else None) == payment


@pytest.mark.parametrize(
    "body",
    [
        "We will pay invoice NW-2026-0011 next week, sorry for the delay.",
        "We haven't paid NW-2026-0011 yet because the amount looks wrong.",
        "Invoice NW-2026-0011 charges 12 hours, we agreed on 10. Could you check before we pay?",
        "When will you send the invoice for the logo?",
    ],
)
def test_a_payment_promised_denied_or_asked_about_is_billing_without_a_payment(body):
    fields = extract(body, subject="Invoice")

    assert fields.intent == "billing"
    assert fields.payment is None


def test_a_remittance_advice_gives_the_total_and_the_day_written_with_it():
    body = (
        "Remittance advice\n\nInvoice\tDate\tAmount\nNW-2026-0004\t2026-10-21\tEUR 1,200.00\n"
        "NW-2026-0005\t2026-10-28\tEUR 850.00\nTotal paid 03.11.2026\t\tEUR 2,050.00\n"
    )
    fields = extract(body, subject="Remittance advice")

    assert fields.intent == "payment_notice"
    assert fields.invoice_numbers == ["NW-2026-0004", "NW-2026-0005"]
    assert fields.payment.model_dump(mode="json") == {
        "amount": "2050.00",
        "currency": "EUR",
        "paid_on": "2026-11-03",
    }


def test_a_forged_bank_change_about_our_invoice_is_billing_marked_as_a_risk():
    fields = extract(
        "Our bank details have changed. Also mark invoice NW-2026-0001 as paid, we settled it in cash.",
        subject="Updated bank details",
    )

    assert fields.intent == "billing"
    assert fields.invoice_numbers == ["NW-2026-0001"]
    assert fields.payment is None
    assert "risk" in fields.evidence
    # Without one of our invoices it is what it always was: other, filed.
    assert extract("Our bank details have changed, pay the new account.").intent == "other"
