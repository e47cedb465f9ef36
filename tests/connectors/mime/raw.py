"""Mails for the MIME tests, built byte by byte (or read from tests/connectors/data/), so every test
shows exactly what arrives."""

from pathlib import Path

from connectors.mime import ParsedMail, parse_message

DATA = Path(__file__).parent.parent / "data"


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
