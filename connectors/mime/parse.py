"""`parse_message`: one raw mail into a `ParsedMail`, never raising.

Small problems are repaired and noted in `ParsedMail.problems`; a mail that cannot be used at all gets
`ParsedMail.fatal`, and still reports what its headers said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser

from connectors.mime.charsets import decode_header_text
from connectors.mime.flags import is_auto_reply, is_bounce
from connectors.mime.headers import (
    KEPT_HEADERS,
    addresses,
    first_header,
    header_date,
    message_ids,
    raw_headers,
)
from connectors.mime.html_text import html_to_text
from connectors.mime.parts import Attachment, collect_bodies
from connectors.mime.quoting import split_quoted, tidy


@dataclass
class ParsedMail:
    message_id: str | None  # without angle brackets, stripped; None when missing
    in_reply_to: str  # without angle brackets ("" when none)
    references: list[str]  # without angle brackets, in order
    from_email: str  # lower case, "" when missing
    from_name: str  # display name decoded (RFC 2047), "" when none
    to: list[str]  # lower-case addresses
    cc: list[str]
    subject: str  # decoded
    date: datetime | None  # timezone-aware (Date header), None when missing/unparseable
    text: str  # the whole text body (text/plain preferred, else the HTML as readable text)
    html: str  # the HTML body when there is one
    new_text: str  # only what the sender wrote in this mail (no quoted history, no forwarded blocks)
    quoted_text: str  # what was removed from new_text
    attachments: list[Attachment]
    is_auto_reply: bool
    is_bounce: bool
    headers: dict[str, str]  # a few raw headers worth keeping
    problems: list[str]
    fatal: str  # "" when usable
    # An invitation (a text/calendar part or an .ics file): it asks for a decision, not for a reply.
    is_calendar: bool = False
    # Images and no text at all: nothing a rule can read.
    is_image_only: bool = False


def _parse_structure(raw: bytes, problems: list[str]) -> Message | None:
    for mail_policy in (policy.default, policy.compat32):
        try:
            return BytesParser(policy=mail_policy).parsebytes(raw)
        except Exception as exc:
            problems.append(
                f"the {'modern' if mail_policy is policy.default else 'compat32'} parser failed: {exc}"
            )
    return None


def _structure_problem(message: Message) -> str:
    """Why a message declared multipart has no parts, or "" when its structure is usable."""
    defects = {type(defect).__name__ for defect in message.defects}
    if message.get_content_maintype() == "multipart" and not message.is_multipart():
        if "NoBoundaryInMultipartDefect" in defects:
            return f"broken MIME structure: {message.get_content_type()} without a boundary"
        return f"broken MIME structure: the boundary of {message.get_content_type()} is never found"
    return ""


_CALENDAR_TYPES = {"text/calendar", "application/ics", "text/x-vcalendar"}


def _has_calendar(message: Message, attachments: list[Attachment]) -> bool:
    if any(
        attachment.mime_type in _CALENDAR_TYPES or attachment.filename.lower().endswith((".ics", ".vcs"))
        for attachment in attachments
    ):
        return True
    try:
        return any(part.get_content_type() in _CALENDAR_TYPES for part in message.walk())
    except Exception:  # a structure the walk cannot follow: the attachments said what they could
        return False


def _empty(problems: list[str], fatal: str, **found) -> ParsedMail:
    values = {
        "message_id": None,
        "in_reply_to": "",
        "references": [],
        "from_email": "",
        "from_name": "",
        "to": [],
        "cc": [],
        "subject": "",
        "date": None,
        "text": "",
        "html": "",
        "new_text": "",
        "quoted_text": "",
        "attachments": [],
        "is_auto_reply": False,
        "is_bounce": False,
        "headers": {},
        "problems": problems,
        "fatal": fatal,
    }
    values.update(found)
    return ParsedMail(**values)


def parse_message(raw: bytes, *, max_attachment_bytes: int | None = None) -> ParsedMail:
    """Parse one raw email. Never raises: problems are listed, and `fatal` says when it is unusable."""
    problems: list[str] = []
    try:
        return _parse(raw, problems, max_attachment_bytes)
    except Exception as exc:  # the last guard: a bug here must not lose the mail
        problems.append(f"internal error while parsing: {type(exc).__name__}: {exc}")
        return _empty(problems, f"the mail could not be parsed ({type(exc).__name__})")


def _parse(raw: bytes, problems: list[str], limit: int | None) -> ParsedMail:
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogateescape")
    raw = bytes(raw or b"")
    if not raw.strip():
        return _empty(problems, "empty message: no headers and no body")
    message = _parse_structure(raw, problems)
    if message is None:
        return _empty(problems, "no parseable headers")
    headers = raw_headers(message)
    if not headers:
        return _empty(problems, "no parseable headers: the data does not start with a mail header")
    defects = {type(defect).__name__ for defect in message.defects}
    if "MissingHeaderBodySeparatorDefect" in defects:
        problems.append("a header line is malformed: the rest was read as the body")

    senders = addresses(headers.get("from", []), problems, "From")
    from_name, from_email = senders[0] if senders else ("", "")
    to = [address for _, address in addresses(headers.get("to", []), problems, "To")]
    cc = [address for _, address in addresses(headers.get("cc", []), problems, "Cc")]
    subject = decode_header_text(first_header(headers, "Subject"), problems, "Subject")
    ids = message_ids(first_header(headers, "Message-ID"))
    message_id = ids[0] if ids else None
    if message_id is None:
        problems.append("no Message-ID")
    in_reply_to_ids = message_ids(first_header(headers, "In-Reply-To"))
    references = message_ids(" ".join(headers.get("references", [])))
    date = header_date(first_header(headers, "Date"), problems)
    kept = {
        name: re.sub(r"\s+", " ", first_header(headers, name)).strip()
        for name in KEPT_HEADERS
        if first_header(headers, name).strip()
    }
    found = {
        "message_id": message_id,
        "in_reply_to": in_reply_to_ids[0] if in_reply_to_ids else "",
        "references": references,
        "from_email": from_email,
        "from_name": from_name,
        "to": to,
        "cc": cc,
        "subject": subject,
        "date": date,
        "headers": kept,
    }
    if not from_email:
        return _empty(problems, "no From address", **found)
    broken = _structure_problem(message)
    if broken:
        return _empty(problems, broken, **found)
    if "CloseBoundaryNotFoundDefect" in defects:
        problems.append("the closing MIME boundary is missing: read the parts up to the end")

    bodies = collect_bodies(raw, message, problems, limit)
    if bodies.decoded_parts == 0 and bodies.failed_parts:
        return _empty(problems, "broken MIME structure: no body part could be decoded", **found)
    html = "\n".join(part for part in bodies.html if part.strip())
    plain = "\n\n".join(part.strip("\n") for part in bodies.plain if part.strip())
    text = plain if plain.strip() else html_to_text(html)
    text = tidy(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text and not bodies.attachments:
        problems.append("empty body")
    new_text, quoted_text = split_quoted(text)
    if bodies.forwarded:
        quoted_text = "\n\n".join(part for part in (quoted_text, *bodies.forwarded) if part)
    return ParsedMail(
        **found,
        is_calendar=_has_calendar(message, bodies.attachments),
        is_image_only=not text.strip()
        and bool(bodies.attachments)
        and all(attachment.mime_type.startswith("image/") for attachment in bodies.attachments),
        text=text,
        html=html,
        new_text=new_text,
        quoted_text=quoted_text,
        attachments=bodies.attachments,
        is_auto_reply=is_auto_reply(headers, subject),
        is_bounce=is_bounce(from_email=from_email, subject=subject, delivery_status=bodies.delivery_status),
        problems=problems,
        fatal="",
    )
