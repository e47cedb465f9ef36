"""`parse_message` never raises: bad input ends in `problems` or in `fatal`."""

import pytest

from connectors.mime import ParsedMail, parse_message
from tests.connectors.mime.raw import parse, raw_mail


def test_empty_body_is_usable_and_noted():
    mail = parse("")

    assert (mail.fatal, mail.text, mail.new_text) == ("", "", "")
    assert mail.problems == ["empty body"]


@pytest.mark.parametrize(
    ("raw", "fatal"),
    [
        (b"", "empty message: no headers and no body"),
        (b"   \r\n\r\n", "empty message: no headers and no body"),
        (
            b"\x00\x01garbage that is not a mail\nat all",
            "no parseable headers: the data does not start with a mail header",
        ),
        (raw_mail("hi", headers={"From": None}), "no From address"),
        (raw_mail("hi", headers={"From": "Nobody <not-an-address>"}), "no From address"),
        (
            raw_mail("no boundary in here\n", content_type='multipart/mixed; boundary="XYZ"', charset=None),
            "broken MIME structure: the boundary of multipart/mixed is never found",
        ),
        (
            raw_mail("--XYZ\nhello\n", content_type="multipart/alternative", charset=None),
            "broken MIME structure: multipart/alternative without a boundary",
        ),
    ],
    ids=["empty", "blank", "garbage", "no from", "bad from", "boundary never found", "no boundary"],
)
def test_unusable_mail_is_fatal_with_a_reason(raw, fatal):
    mail = parse_message(raw)

    assert mail.fatal == fatal
    assert isinstance(mail.problems, list)


def test_a_fatal_mail_still_reports_what_its_headers_said():
    mail = parse_message(raw_mail("nothing", content_type='multipart/mixed; boundary="XYZ"', charset=None))

    assert mail.fatal.startswith("broken MIME structure")
    assert (mail.from_email, mail.message_id, mail.subject) == (
        "jonas@bergbakery.se",
        "m1@bergbakery.se",
        "Hello",
    )


def test_a_missing_closing_boundary_is_repaired():
    raw = (
        b"From: a@example.com\r\nMessage-ID: <a@b>\r\nDate: Mon, 02 Nov 2026 09:14:00 +0100\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nStill readable.\r\n"
    )

    mail = parse_message(raw)

    assert mail.fatal == ""
    assert mail.text == "Still readable."
    assert mail.problems == ["the closing MIME boundary is missing: read the parts up to the end"]


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff" * 300,
        b"From: \xff\xfe <\xff@\xfe>\r\n\r\nx",
        b'From: a@b.c\r\nContent-Type: multipart/mixed; boundary="\r\n\r\n--\r\n',
        b"From: a@b.c\r\nContent-Type: text/plain; charset*=utf-8''%ZZ\r\n\r\nx",
        b"From: a@b.c\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+ZZZ-",
        b"From: a@b.c\r\nContent-Disposition: attachment; filename*=bogus''%%%\r\n\r\nx",
        b"From: a@b.c\r\nDate: Mon, 99 Foo 99999 99:99:99 +9999\r\n\r\nx",
        b"From: a@b.c\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        + b"--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" * 50,
        b"From: a@b.c\r\nSubject: =?utf-8?b?!!!?=\r\n\r\nx",
        b"From: =?utf-8?q?=E2=80?= <a@b.c>\r\nReferences: <<<>>>\r\nIn-Reply-To: garbage\r\n\r\nx",
    ],
)
def test_parse_message_never_raises(raw):
    mail = parse_message(raw)

    assert isinstance(mail, ParsedMail)
    assert isinstance(mail.fatal, str)


# --- Calendar invitations and image-only mail ---------------------------------------------------------------


def _multipart(*parts: str, kind: str = "mixed") -> bytes:
    head = (
        "From: Ana <ana@client.example>\r\nTo: mara@northwind.studio\r\nSubject: x\r\n"
        "Message-ID: <flags@client.example>\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/{kind}; boundary="b"\r\n\r\n'
    )
    body = "".join(f"--b\r\n{part}\r\n" for part in parts) + "--b--\r\n"
    return (head + body).encode()


TEXT = "Content-Type: text/plain\r\n\r\nHello"
CALENDAR = "Content-Type: text/calendar; method=REQUEST\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR"
ICS_FILE = (
    'Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="a.ics"\r\n\r\nX'
)
PNG = 'Content-Type: image/png\r\nContent-Disposition: attachment; filename="a.png"\r\n\r\nPNG'
PDF = 'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"\r\n\r\nPDF'


def test_a_text_calendar_part_or_an_ics_file_marks_an_invitation():
    assert parse_message(_multipart(TEXT, CALENDAR, kind="alternative")).is_calendar
    assert parse_message(_multipart(TEXT, ICS_FILE)).is_calendar
    assert not parse_message(_multipart(TEXT, PDF)).is_calendar


def test_images_without_any_text_are_image_only_and_text_or_other_files_are_not():
    assert parse_message(_multipart(PNG)).is_image_only
    assert not parse_message(_multipart(TEXT, PNG)).is_image_only
    assert not parse_message(_multipart(PNG, PDF)).is_image_only
