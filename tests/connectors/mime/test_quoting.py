"""The new text apart from quoted history and forwarded blocks, in several languages."""

import pytest

from connectors.mime import parse_message, split_quoted
from tests.connectors.mime.raw import DATA, parse

REPLIES = {
    "english": (
        "Sounds great, go ahead.\n\nJonas\n\n"
        "On Mon, 2 Nov 2026 at 09:14, Mara Lindqvist <mara@northwind.studio> wrote:\n"
        "> Here is the proposal: 5,000 EUR.\n> Best, Mara\n"
    ),
    "english wrapped header": (
        "Sounds great, go ahead.\n\nJonas\n\n"
        "On Mon, 2 Nov 2026 at 09:14, Mara Lindqvist\n<mara@northwind.studio> wrote:\n"
        "> Here is the proposal: 5,000 EUR.\n> Best, Mara\n"
    ),
    "german": (
        "Sounds great, go ahead.\n\nJonas\n\n"
        "Am Mo., 2. Nov. 2026 um 09:14 Uhr schrieb Mara Lindqvist <mara@northwind.studio>:\n"
        "> Here is the proposal: 5,000 EUR.\n> Best, Mara\n"
    ),
    "swedish": (
        "Sounds great, go ahead.\n\nJonas\n\n"
        "Den mån 2 nov. 2026 kl 09:14 skrev Mara Lindqvist <mara@northwind.studio>:\n"
        "> Here is the proposal: 5,000 EUR.\n> Best, Mara\n"
    ),
    "french": (
        "Sounds great, go ahead.\n\nJonas\n\n"
        "Le lun. 2 nov. 2026 à 09:14, Mara Lindqvist <mara@northwind.studio> a écrit :\n"
        "> Here is the proposal: 5,000 EUR.\n> Best, Mara\n"
    ),
    "spanish": (
        "Sounds great, go ahead.\n\nJonas\n\n"
        "El lun, 2 nov 2026 a las 09:14, Mara Lindqvist (<mara@northwind.studio>) escribió:\n"
        "> Here is the proposal: 5,000 EUR.\n> Best, Mara\n"
    ),
    "outlook": (
        "Sounds great, go ahead.\n\nJonas\n\n"
        "-----Original Message-----\nFrom: Mara Lindqvist <mara@northwind.studio>\n"
        "Sent: Monday, November 2, 2026 9:14 AM\nTo: Jonas Berg\nSubject: Proposal\n\n"
        "Here is the proposal: 5,000 EUR.\nBest, Mara\n"
    ),
    "outlook headers only": (
        "Sounds great, go ahead.\n\nJonas\n\n"
        "From: Mara Lindqvist <mara@northwind.studio>\nSent: Monday, November 2, 2026 9:14 AM\n"
        "To: Jonas Berg <jonas@bergbakery.se>\nSubject: Proposal\n\n"
        "Here is the proposal: 5,000 EUR.\nBest, Mara\n"
    ),
    "outlook german": (
        "Sounds great, go ahead.\n\nJonas\n\n"
        "Von: Mara Lindqvist <mara@northwind.studio>\nGesendet: Montag, 2. November 2026 09:14\n"
        "An: Jonas Berg\nBetreff: Angebot\n\n"
        "Here is the proposal: 5,000 EUR.\nBest, Mara\n"
    ),
    "quote marks only": (
        "Sounds great, go ahead.\n\nJonas\n\n> Here is the proposal: 5,000 EUR.\n> Best, Mara\n"
    ),
}


@pytest.mark.parametrize("style", REPLIES)
def test_quoted_history_is_separated_from_the_new_text(style):
    mail = parse(REPLIES[style])

    assert mail.new_text == "Sounds great, go ahead.\n\nJonas"
    assert "Here is the proposal: 5,000 EUR." in mail.quoted_text
    assert "go ahead" not in mail.quoted_text
    assert mail.text.startswith("Sounds great")  # the whole body is still there


def test_outlook_history_in_a_windows_1252_file():
    mail = parse_message((DATA / "outlook-reply.eml").read_bytes())

    assert (
        mail.new_text == "Thanks Mara, received – we will pay on the 20th.\n\nHelen Moore\nAccounts Payable"
    )
    assert mail.quoted_text.startswith("________________________________\nFrom: Mara Lindqvist")
    assert mail.quoted_text.endswith("here is the re-issued invoice with your VAT number.")


@pytest.mark.parametrize(
    "separator",
    [
        "---------- Forwarded message ---------",
        "Begin forwarded message:",
        "-------- Original Message --------",
    ],
)
def test_forwarded_blocks_are_separated(separator):
    body = (
        f"Mara, see below — can you quote this?\n\n{separator}\n"
        "From: Jonas <jonas@bergbakery.se>\n\nWe need a website.\n"
    )

    new_text, quoted = split_quoted(body)

    assert new_text == "Mara, see below — can you quote this?"
    assert quoted == f"{separator}\nFrom: Jonas <jonas@bergbakery.se>\n\nWe need a website."


def test_answers_between_quotes_are_new_text():
    body = (
        "On Mon, 2 Nov 2026, Mara <mara@northwind.studio> wrote:\n"
        "> How many pages?\n\nSix.\n\n> And the deadline?\n\nEnd of March.\n"
    )

    new_text, quoted = split_quoted(body)

    assert new_text == "Six.\n\nEnd of March."
    assert quoted.splitlines()[0] == "On Mon, 2 Nov 2026, Mara <mara@northwind.studio> wrote:"
    assert "> How many pages?" in quoted and "> And the deadline?" in quoted


def test_signatures_stay_in_the_new_text():
    new_text, quoted = split_quoted("We need a logo.\n\n-- \nPriya Nair\nStill Point Yoga\n")

    assert new_text == "We need a logo.\n\n--\nPriya Nair\nStill Point Yoga"
    assert quoted == ""


def test_a_sentence_that_mentions_writing_is_not_a_reply_header():
    text = "As my partner wrote:\nwe need a shop.\nOn reflection, this is what we want:"

    assert split_quoted(text) == (text, "")
