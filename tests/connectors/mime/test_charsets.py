"""Declared, unknown and wrong charsets of a body."""

import pytest

from tests.connectors.mime.raw import parse

TEXTS = {
    "iso-8859-1": "Grüße aus Köln, à bientôt",
    "windows-1252": "Price: 5 000 € – “quoted” … done",
    "koi8-r": "Привет, нам нужен новый сайт",
    "utf-8": "Hej Åsa, 你好, 🚲",
    "iso-8859-2": "Dzień dobry, potrzebujemy strony",
    "shift_jis": "新しいロゴをお願いします",
}


@pytest.mark.parametrize("charset", TEXTS)
def test_declared_charsets_are_decoded(charset):
    text = TEXTS[charset]

    mail = parse(text.encode(charset), charset=charset, cte="8bit")

    assert mail.text == text
    assert mail.problems == []


@pytest.mark.parametrize(
    ("payload", "expected"),
    [("Grüße, €5".encode(), "Grüße, €5"), ("Grüße".encode("latin-1"), "Grüße")],
    ids=["utf-8 bytes", "latin-1 bytes"],
)
def test_an_unknown_charset_falls_back_to_utf8_then_latin1(payload, expected):
    mail = parse(payload, charset="x-unknown-charset", cte="8bit")

    assert mail.text == expected
    assert mail.problems == [
        "unknown charset 'x-unknown-charset' in text/plain part: decoded as utf-8 or latin-1"
    ]
    assert mail.fatal == ""


def test_text_that_is_not_in_its_declared_charset_is_guessed():
    mail = parse("Grüße".encode("latin-1"), charset="utf-8", cte="8bit")

    assert mail.text == "Grüße"
    assert mail.problems == ["text in text/plain part is not valid utf-8: guessed the charset"]


def test_8bit_text_without_a_charset():
    mail = parse("Grüße".encode(), charset=None, cte="8bit")

    assert mail.text == "Grüße"
