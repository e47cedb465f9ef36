"""Header fields: RFC 2047 words, raw 8-bit bytes, Message-IDs, addresses, dates, kept headers."""

import datetime as dt

from connectors.mime import parse_message
from tests.connectors.mime.raw import DATA, parse, raw_mail

UTC = dt.UTC


def test_headers_are_read_decoded_and_normalised():
    mail = parse_message((DATA / "nested-attachments.eml").read_bytes())

    assert mail.fatal == ""
    assert mail.problems == []
    assert mail.message_id == "brief-42@example.de"
    assert mail.in_reply_to == "prev-1@northwind.studio"
    assert mail.references == ["root-0@northwind.studio", "prev-1@northwind.studio"]
    assert (mail.from_email, mail.from_name) == ("joerg.mueller@example.de", "Jörg Müller")
    assert mail.to == ["mara@northwind.studio", "team@northwind.studio"]
    assert mail.cc == ["asa@example.se"]
    # Two RFC 2047 words (base64 and Q) in one header, joined without the space between them.
    assert mail.subject == "Brief für die neue Website – Anhänge"
    assert mail.date == dt.datetime(2026, 11, 16, 8, 30, tzinfo=UTC)
    assert mail.date.utcoffset() == dt.timedelta(hours=1)
    assert mail.headers == {"X-Mailer": "Thunderbird 128"}


def test_raw_8bit_headers_are_decoded_too():
    mail = parse_message(
        raw_mail("body", headers={"Subject": "Grüße", "From": "Jörg <j@example.de>"}).replace(
            "Grüße".encode(), "Grüße".encode("latin-1")
        )
    )

    assert mail.subject == "Grüße"
    assert mail.from_name == "Jörg"


def test_an_unknown_charset_in_an_encoded_word_is_guessed_and_noted():
    mail = parse(b"x", headers={"Subject": "=?x-klingon?q?J=F6rg?="})

    assert mail.subject == "Jörg"
    assert any("unknown charset 'x-klingon'" in problem for problem in mail.problems)
    assert mail.fatal == ""


def test_a_mail_without_message_id_is_usable_and_says_so():
    mail = parse("Hi", headers={"Message-ID": None})

    assert mail.message_id is None
    assert mail.fatal == ""
    assert mail.problems == ["no Message-ID"]
    assert mail.text == "Hi"


def test_dates_are_timezone_aware_or_none():
    assert parse("x", headers={"Date": "Mon, 02 Nov 2026 09:14:00 -0000"}).date == dt.datetime(
        2026, 11, 2, 9, 14, tzinfo=UTC
    )
    broken = parse("x", headers={"Date": "the day after tomorrow"})
    assert broken.date is None
    assert broken.problems == ["unparseable Date header 'the day after tomorrow'"]
    assert parse("x", headers={"Date": None}).date is None


def test_kept_headers():
    mail = parse(
        "x",
        headers={
            "List-Id": "Design Weekly <weekly.designweekly.example>",
            "List-Unsubscribe": "<mailto:unsubscribe@designweekly.example>",
            "Precedence": "bulk",
            "Received": "from somewhere",
        },
    )

    assert mail.headers == {
        "Precedence": "bulk",
        "List-Id": "Design Weekly <weekly.designweekly.example>",
        "List-Unsubscribe": "<mailto:unsubscribe@designweekly.example>",
    }
