"""The sender's name and company: signature, "I run X", the sender's domain, role display names."""

import pytest

from tests.agents.intake.helpers import extract


@pytest.mark.parametrize(
    ("body", "sender", "company"),
    [
        ("We need a website.\n\nBest regards,\nIngrid Dahl\nDahl & Co", None, "Dahl & Co"),
        ("Hi, I run Fjelltopp Guiding and need a new logo.", "Per <per@gmail.com>", "Fjelltopp Guiding"),
        (
            "I'm the marketing lead at Nordlys Travel; we need a landing page.",
            "Ida <ida@gmail.com>",
            "Nordlys Travel",
        ),
        (
            "We need a landing page.\n\nIda\nHead of Marketing, Nordlys Travel AS",
            "Ida <ida@nordlystravel.no>",
            "Nordlys Travel AS",
        ),
        ("Hi, I need a logo for my podcast.\n\nThanks,\nSam", "Sam Jones <sam.jones@gmail.com>", None),
        ("We need a new site for the office.\n\nCheers,\nMarco", "Marco <marco@rossi-studio.it>", None),
        ("We need a new shop for Rossi Studio.\n\nMarco", "Marco <marco@rossi-studio.it>", "Rossi Studio"),
        ("I run a pottery studio called Clay & Co. We'd love a webshop.", "M <m@hotmail.com>", "Clay & Co"),
    ],
)
def test_company(body, sender, company):
    assert extract(body, **({"sender": sender} if sender else {})).company == company


def test_a_role_display_name_gives_way_to_the_signature():
    fields = extract(
        "Please resend invoice NW-2026-0040.\n\nKind regards,\nAstrid Berg\nFinance, Dahl & Co",
        sender="Billing <billing@dahlandco.no>",
    )

    assert (fields.sender_name, fields.company) == ("Astrid Berg", "Dahl & Co")


def test_no_display_name_and_no_signature_is_null():
    assert extract("We need a logo.", sender="ingrid@dahlandco.no").sender_name is None


def test_sender_email_is_lower_case():
    assert extract("We need a logo.", sender="Ingrid <Ingrid.Dahl@DahlAndCo.NO>").sender_email == (
        "ingrid.dahl@dahlandco.no"
    )
