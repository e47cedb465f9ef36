"""Defensive MIME parsing: charsets, transfer encodings, structure, history, auto-replies and bounces.

Mails are built here byte by byte (or read from tests/connectors/data/), so every test shows exactly
what arrives. `parse_message` must never raise: bad input ends in `problems` or in `fatal`.
"""

import base64
import datetime as dt
import quopri
from pathlib import Path

import pytest

from connectors.mime import ParsedMail, html_to_text, parse_message, split_quoted

DATA = Path(__file__).parent / "data"
UTC = dt.UTC


def raw_mail(
    body: bytes | str,
    *,
    content_type: str = "text/plain",
    charset: str | None = "utf-8",
    cte: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """A single-part mail; `headers` replaces or adds to the defaults (a value of None drops one)."""
    values: dict[str, str | None] = {
        "From": "Jonas Berg <Jonas@BergBakery.se>",
        "To": "mara@northwind.studio",
        "Subject": "Hello",
        "Date": "Mon, 02 Nov 2026 09:14:00 +0100",
        "Message-ID": "<m1@bergbakery.se>",
        "MIME-Version": "1.0",
        "Content-Type": f"{content_type}; charset={charset}" if charset else content_type,
    }
    if cte:
        values["Content-Transfer-Encoding"] = cte
    values.update(headers or {})
    head = "".join(f"{name}: {value}\r\n" for name, value in values.items() if value is not None)
    return head.encode("utf-8") + b"\r\n" + (body.encode("utf-8") if isinstance(body, str) else body)


def parse(body: bytes | str, **kwargs) -> ParsedMail:
    return parse_message(raw_mail(body, **kwargs))


# --- Headers -----------------------------------------------------------------------------------


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


# --- Charsets and transfer encodings -----------------------------------------------------------

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


# --- Structure ---------------------------------------------------------------------------------


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


def test_html_only_mail_becomes_readable_text():
    html = """<html><head><title>Hi</title><style>p { color: red }</style>
    <script>alert("x")</script></head><body>
    <p>Hello&nbsp;Mara,</p><p>We need:<br>a <b>logo</b> and
       a website.</p><ul><li>home</li><li>about &amp; team</li></ul>
    <div>Best,<br/>Chlo&eacute;</div></body></html>"""

    mail = parse(html, content_type="text/html")

    assert mail.text == "Hello Mara,\n\nWe need:\na logo and a website.\n\nhome\nabout & team\n\nBest,\nChloé"
    assert mail.html == html
    assert mail.new_text == mail.text


def test_html_blockquotes_become_quoted_history():
    html = (
        "<div>Sounds good, go ahead!</div><div class=gmail_quote><div>On Mon, 2 Nov 2026 at 09:14, Mara "
        "&lt;mara@northwind.studio&gt; wrote:<br></div><blockquote><p>Here is the proposal.</p>"
        "<p>7 pages, 4,550 EUR.</p></blockquote></div>"
    )

    assert html_to_text(html) == (
        "Sounds good, go ahead!\nOn Mon, 2 Nov 2026 at 09:14, Mara <mara@northwind.studio> wrote:\n\n"
        "> Here is the proposal.\n>\n> 7 pages, 4,550 EUR."
    )
    mail = parse(html, content_type="text/html")
    assert mail.new_text == "Sounds good, go ahead!"
    assert "7 pages, 4,550 EUR" in mail.quoted_text


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


def test_empty_body_is_usable_and_noted():
    mail = parse("")

    assert (mail.fatal, mail.text, mail.new_text) == ("", "", "")
    assert mail.problems == ["empty body"]


# --- Broken mail -------------------------------------------------------------------------------


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


# --- Quoted history and forwarded blocks -------------------------------------------------------

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


# --- Auto-replies and bounces ------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "yes"},
        {"Precedence": "auto_reply"},
        {"Precedence": "bulk", "Subject": "Out of Office: New website"},
        {"Subject": "Automatic reply: New website"},
        {"Subject": "Abwesenheitsnotiz: Ihre Anfrage"},
        {"Subject": "Autosvar: Webshop"},
        {"Subject": "Réponse automatique : Rebranding"},
    ],
)
def test_auto_replies_are_recognised(headers):
    mail = parse("I am away until Monday.", headers=headers)

    assert mail.is_auto_reply is True
    assert mail.is_bounce is False


@pytest.mark.parametrize(
    "headers",
    [{}, {"Auto-Submitted": "no"}, {"Precedence": "bulk"}, {"Subject": "Re: the office website"}],
)
def test_ordinary_mail_is_not_an_auto_reply(headers):
    assert parse("We need a website.", headers=headers).is_auto_reply is False


def test_a_delivery_status_report_is_a_bounce():
    mail = parse_message((DATA / "bounce.eml").read_bytes())

    assert mail.is_bounce is True
    assert mail.text == (
        "This is the mail system at host mx.example.net.\nI'm sorry to have to inform you that your message "
        "could not be delivered.\n\n<nobody@example.net>: host mx.example.net said: 550 5.1.1 User unknown"
    )
    assert [(a.filename, a.mime_type) for a in mail.attachments] == [
        ("delivery-status.txt", "message/delivery-status"),
        ("forwarded-message.eml", "message/rfc822"),
    ]
    assert b"Status: 5.1.1" in mail.attachments[0].content
    assert "Hi, here is the proposal." in mail.quoted_text


@pytest.mark.parametrize(
    "headers",
    [
        {"From": "MAILER-DAEMON@mail.example.com"},
        {"From": "Mail Delivery Subsystem <postmaster@example.org>"},
        {"Subject": "Delivery Status Notification (Failure)"},
        {"Subject": "Undelivered Mail Returned to Sender"},
        {"Subject": "Mail delivery failed: returning message to sender"},
    ],
)
def test_bounces_are_recognised_by_sender_or_subject(headers):
    assert parse("Your message could not be delivered.", headers=headers).is_bounce is True


def test_ordinary_mail_is_not_a_bounce():
    assert (
        parse("Please deliver the logo by Friday.", headers={"Subject": "Delivery date"}).is_bounce is False
    )


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
