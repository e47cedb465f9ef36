"""The MIME tree: transfer encodings, nested multiparts, attachments and forwarded mails."""

import base64
import quopri

from connectors.mime import parse_message
from tests.connectors.mime.raw import DATA, parse


def test_base64_body():
    text = "Hej Mara!\nVi behöver en webbshop.\n"
    encoded = base64.encodebytes(text.encode("utf-8")).decode()

    mail = parse(encoded, cte="base64")

    assert mail.text == "Hej Mara!\nVi behöver en webbshop."
    assert mail.problems == []


def test_quoted_printable_body_with_soft_line_breaks():
    text = "Bonjour Mara, nous aimerions une nouvelle identité visuelle pour notre café. " * 2
    encoded = quopri.encodestring(text.encode("iso-8859-1")).decode()
    assert "=\n" in encoded  # long lines are wrapped with soft breaks

    mail = parse(encoded, charset="iso-8859-1", cte="quoted-printable")

    assert mail.text == text.strip()


def test_broken_base64_is_decoded_as_far_as_possible_and_noted():
    mail = parse("SGVsbG8gTWFyYSwgd2UgbmVlZCBhIHdlYnNpdGU*!", cte="base64")

    assert mail.text.startswith("Hello Mara, we need a website")
    assert mail.fatal == ""
    assert len(mail.problems) == 1
    assert mail.problems[0].startswith("text/plain part: broken base64")


def test_an_unknown_transfer_encoding_is_kept_as_is():
    mail = parse("plain words", cte="x-rot13")

    assert mail.text == "plain words"
    assert mail.problems == ["text/plain part: unknown Content-Transfer-Encoding 'x-rot13', kept as is"]


def test_nested_multipart_prefers_plain_text_and_keeps_every_attachment():
    mail = parse_message((DATA / "nested-attachments.eml").read_bytes())

    assert mail.text == "Hallo Mara,\n\nanbei das Briefing für die neue Website. Grüße!"
    assert mail.html.startswith("<html><body><p>Hallo Mara,</p>")
    assert [(a.filename, a.mime_type, a.content) for a in mail.attachments] == [
        ("logo.png", "image/png", b"\x89PNG\r\n\x1a\n"),
        ("Brief für Mara.pdf", "application/pdf", b"%PDF-1.4\n%fake pdf\n"),
        ("pages.csv", "text/csv", b"page,words\nhome,300"),
    ]


def test_attachments_over_the_size_limit_are_not_kept_and_noted():
    mail = parse_message((DATA / "nested-attachments.eml").read_bytes(), max_attachment_bytes=18)

    assert [attachment.filename for attachment in mail.attachments] == ["logo.png"]
    assert mail.problems == [
        "attachment 'Brief für Mara.pdf' (19 bytes) is over the limit of 18 bytes: not kept",
        "attachment 'pages.csv' (19 bytes) is over the limit of 18 bytes: not kept",
    ]
    assert mail.fatal == ""
    assert mail.text.startswith("Hallo Mara")


def test_an_attachment_without_a_filename_gets_one():
    boundary = "b"
    raw = (
        b"From: a@example.com\r\nMessage-ID: <a@b>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        b"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
    )
    assert boundary

    mail = parse_message(raw)

    assert mail.text == "See attached."
    assert [(a.filename, a.content) for a in mail.attachments] == [("attachment-1.pdf", b"%PDF-")]


def test_rfc822_attachment_is_forwarded_history():
    raw = (
        b"From: Mara <mara@northwind.studio>\r\nMessage-ID: <f@b>\r\nSubject: Fwd: brief\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nFYI\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: Jonas <jonas@bergbakery.se>\r\nSubject: Website\r\n\r\nWe need a website.\r\n--b--\r\n"
    )

    mail = parse_message(raw)

    assert mail.new_text == "FYI"
    assert mail.quoted_text == (
        "---------- Forwarded message ---------\nFrom: Jonas <jonas@bergbakery.se>\nSubject: Website\n\n"
        "We need a website."
    )
    assert [(a.filename, a.mime_type) for a in mail.attachments] == [
        ("forwarded-message.eml", "message/rfc822")
    ]


def test_a_large_attachment_over_the_limit_loses_nothing_else():
    content = bytes(range(256)) * 8192  # 2 MiB
    raw = (
        b"From: a@example.com\r\nMessage-ID: <big@b>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nSee the attached drawings.\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename=big.bin\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(content) + b"--b--\r\n"
    )

    limited = parse_message(raw, max_attachment_bytes=1024 * 1024)
    unlimited = parse_message(raw)

    assert (limited.fatal, limited.text, limited.attachments) == ("", "See the attached drawings.", [])
    assert (
        "attachment 'big.bin' (2097152 bytes) is over the limit of 1048576 bytes: not kept"
        in limited.problems
    )
    assert [attachment.content for attachment in unlimited.attachments] == [content]
