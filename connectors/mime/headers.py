"""The mail's header fields: raw values, Message-IDs, addresses and the date."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from connectors.mime.charsets import decode_header_text

# Headers kept verbatim: what later steps (filing, threading, auto-reply handling) may want to see.
KEPT_HEADERS = (
    "Auto-Submitted",
    "Precedence",
    "List-Id",
    "List-Unsubscribe",
    "X-Mailer",
    "X-Autoreply",
    "X-Autorespond",
)


def raw_headers(message: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        headers.setdefault(name.lower(), []).append(str(value))
    return headers


def first_header(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name.lower())
    return values[0] if values else ""


def message_ids(value: str) -> list[str]:
    value = re.sub(r"\s+", " ", value)
    bracketed = re.findall(r"<([^<>]*)>", value)
    ids = bracketed if bracketed else value.split()
    return [found.strip() for found in ids if found.strip()]


def addresses(values: list[str], problems: list[str], where: str) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs of address headers; nonsense entries are dropped."""
    found: list[tuple[str, str]] = []
    try:
        pairs = getaddresses([re.sub(r"\r?\n[ \t]+", " ", value) for value in values])
    except Exception:
        problems.append(f"unreadable {where} header")
        return found
    for name, address in pairs:
        address = decode_header_text(address, problems, where).strip().strip("<>").lower()
        if "@" not in address:
            continue
        found.append((decode_header_text(name, problems, where).strip().strip('"').strip(), address))
    return found


def header_date(value: str, problems: list[str]) -> datetime | None:
    if not value.strip():
        problems.append("no Date header")
        return None
    try:
        parsed = parsedate_to_datetime(re.sub(r"\s+", " ", value.strip()))
    except (TypeError, ValueError, IndexError, OverflowError):
        problems.append(f"unparseable Date header {value.strip()[:60]!r}")
        return None
    # "-0000" means "timezone unknown": read it as UTC rather than guessing a local zone.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
