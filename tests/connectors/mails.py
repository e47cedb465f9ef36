"""Mails for the email-in tests, built as the bytes a server would hand over."""

from __future__ import annotations

import hashlib
import hmac
from email.message import EmailMessage
from email.policy import SMTP

from core import clock

STUDIO = "mara@northwind.studio"


def mail(
    *,
    message_id: str | None = "<inquiry-1@client.example>",
    sender: str = "Ana Lima <ana@client.example>",
    to: str = STUDIO,
    cc: str | None = None,
    subject: str = "A new website",
    body: str = "Hello, we need a new website by the end of June. Budget 8k EUR.",
    in_reply_to: str | None = None,
    references: str | None = None,
    date: str = "Mon, 02 Nov 2026 09:14:00 +0100",
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    """A well-formed mail; attachments are (filename, mime type, content)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = date
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    message.set_content(body)
    for filename, mime_type, content in attachments:
        maintype, subtype = mime_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes(policy=SMTP)


def raw(headers: dict[str, str], body: bytes | str) -> bytes:
    """A mail written byte by byte, for the malformed ones."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return head.encode() + b"\r\n" + (body.encode() if isinstance(body, str) else body)


HEADERS = {
    "From": "Ana Lima <ana@client.example>",
    "To": STUDIO,
    "Subject": "Broken",
    "Date": "Mon, 02 Nov 2026 09:14:00 +0100",
    "Message-ID": "<broken-1@client.example>",
    "MIME-Version": "1.0",
}


def broken_mime() -> bytes:
    """multipart/mixed without its boundary parameter: the parts cannot be told apart."""
    return raw(
        {**HEADERS, "Content-Type": "multipart/mixed"},
        "--x\r\nContent-Type: text/plain\r\n\r\nHello\r\n--x--\r\n",
    )


def unknown_charset() -> bytes:
    return raw(
        {
            **HEADERS,
            "Message-ID": "<charset-1@client.example>",
            "Content-Type": "text/plain; charset=x-klingon",
        },
        b"Hej, vi beh\xf6ver en ny webbplats.\r\n",
    )


def empty_body() -> bytes:
    return raw({**HEADERS, "Message-ID": "<empty-1@client.example>", "Content-Type": "text/plain"}, "\r\n")


def no_message_id() -> bytes:
    headers = {name: value for name, value in HEADERS.items() if name != "Message-ID"}
    return raw({**headers, "Content-Type": "text/plain"}, "Hello, a mail without a Message-ID.\r\n")


def sign(body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The webhook's signature headers, as Django test-client keyword arguments."""
    stamp = str(int(clock.timestamp()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"HTTP_X_AIOS_TIMESTAMP": stamp, "HTTP_X_AIOS_SIGNATURE": f"sha256={digest}"}
