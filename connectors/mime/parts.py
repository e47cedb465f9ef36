"""Walking the MIME tree: body texts, attachments, forwarded mails and delivery reports."""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser

from connectors.mime.charsets import decode_bytes, decode_header_text
from connectors.mime.headers import first_header, raw_headers
from connectors.mime.html_text import html_to_text


@dataclass
class Attachment:
    filename: str
    mime_type: str
    content: bytes


@dataclass
class Bodies:
    """What the walk found in a message's parts."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    delivery_status: bool = False
    decoded_parts: int = 0
    failed_parts: int = 0


def _payload_bytes(part: Message, problems: list[str], where: str) -> bytes | None:
    """The decoded bytes of a leaf part; broken transfer encodings are decoded as far as they go."""
    cte = str(part.get("Content-Transfer-Encoding", "") or "").strip().lower()
    defects_before = len(part.defects)
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:
        problems.append(f"{where}: undecodable payload ({type(exc).__name__})")
        payload = part.get_payload()
        if isinstance(payload, str):
            return payload.encode("utf-8", errors="surrogateescape")
        return None
    if data is None:
        return None
    new_defects = part.defects[defects_before:]
    if new_defects:
        names = ", ".join(sorted({type(defect).__name__ for defect in new_defects}))
        problems.append(f"{where}: broken {cte or 'transfer encoding'} ({names}), decoded as far as possible")
    if cte and cte not in {"7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "uuencode"}:
        problems.append(f"{where}: unknown Content-Transfer-Encoding {cte!r}, kept as is")
    return data


def _charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except Exception:  # an RFC 2231 charset parameter that is itself malformed
        return None


def _filename(part: Message, problems: list[str]) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
        problems.append("an attachment's filename could not be read")
    if "=?" in name or re.search(r"[\udc80-\udcff]", name):
        name = decode_header_text(name, problems, "attachment filename")
    # A filename is only a label here; keep no path from the sender's machine.
    return re.split(r"[\\/]", name.strip())[-1].strip()


def _attachment_name(mime_type: str, index: int) -> str:
    extension = mimetypes.guess_extension(mime_type) or ".bin"
    return f"attachment-{index}{extension}"


def _keep_attachment(
    bodies: Bodies, *, filename: str, mime_type: str, content: bytes, limit: int | None, problems: list[str]
) -> None:
    filename = filename or _attachment_name(mime_type, len(bodies.attachments) + 1)
    if limit is not None and len(content) > limit:
        problems.append(
            f"attachment {filename!r} ({len(content)} bytes) is over the limit of {limit} bytes: not kept"
        )
        return
    bodies.attachments.append(Attachment(filename=filename, mime_type=mime_type, content=content))


def _message_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes(policy=policy.compat32)
    except Exception:
        return message.as_string(policy=policy.compat32).encode("utf-8", errors="replace")


def _forwarded_text(message: Message, problems: list[str], limit: int | None) -> str:
    """An attached message (message/rfc822) as a forwarded block: its headers and its text."""
    headers = raw_headers(message)
    inner = Bodies()
    _walk(message, inner, problems, limit, depth=1)
    body = "\n\n".join(inner.plain) or html_to_text("\n".join(inner.html))
    lines = ["---------- Forwarded message ---------"]
    for name in ("From", "Date", "Subject", "To"):
        value = decode_header_text(first_header(headers, name), problems, f"forwarded {name}")
        if value:
            lines.append(f"{name}: {value}")
    return "\n".join(lines) + "\n\n" + body.strip()


def _walk(part: Message, bodies: Bodies, problems: list[str], limit: int | None, depth: int = 0) -> None:
    if depth > 30:  # a nesting this deep is an attack or a bug, not a mail
        problems.append("MIME nesting deeper than 30 levels: the rest is ignored")
        return
    mime_type = part.get_content_type()
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part, problems)
    where = f"{mime_type} part" + (f" {filename!r}" if filename else "")
    # message/* parts hold parsed messages (the parser makes them look multipart): they are
    # attachments and, for an attached mail, forwarded history — never the new text.
    if mime_type == "message/rfc822":
        inner = part.get_payload()
        message = inner[0] if isinstance(inner, list) and inner else None
        if isinstance(message, Message):
            bodies.forwarded.append(_forwarded_text(message, problems, limit))
            _keep_attachment(
                bodies,
                filename=filename or "forwarded-message.eml",
                mime_type=mime_type,
                content=_message_bytes(message),
                limit=limit,
                problems=problems,
            )
            bodies.decoded_parts += 1
            return
    if mime_type == "message/delivery-status":
        bodies.delivery_status = True
        blocks = part.get_payload()
        content = (
            b"\n".join(_message_bytes(block) for block in blocks if isinstance(block, Message))
            if isinstance(blocks, list)
            else str(blocks).encode("utf-8", errors="replace")
        )
        _keep_attachment(
            bodies,
            filename=filename or "delivery-status.txt",
            mime_type=mime_type,
            content=content,
            limit=limit,
            problems=problems,
        )
        bodies.decoded_parts += 1
        return
    if part.is_multipart():
        if mime_type == "multipart/report" and part.get_param("report-type") == "delivery-status":
            bodies.delivery_status = True
        payload = part.get_payload()
        for child in payload if isinstance(payload, list) else []:
            if isinstance(child, Message):
                _walk(child, bodies, problems, limit, depth + 1)
        return
    if part.get_content_maintype() == "multipart":
        # A nested multipart whose boundary is missing: its parts cannot be told apart.
        problems.append(f"broken nested {mime_type}: its parts were not found")
        bodies.failed_parts += 1
        return

    data = _payload_bytes(part, problems, where)
    if data is None:
        bodies.failed_parts += 1
        return
    is_body = (mime_type in {"text/plain", "text/html"} and disposition != "attachment" and not filename) or (
        depth == 0 and mime_type.startswith("text/") and not filename
    )
    if is_body:
        text = decode_bytes(data, _charset(part), problems, where)
        bodies.decoded_parts += 1
        (bodies.html if mime_type == "text/html" else bodies.plain).append(text)
        return
    bodies.decoded_parts += 1
    _keep_attachment(
        bodies, filename=filename, mime_type=mime_type, content=data, limit=limit, problems=problems
    )


def collect_bodies(raw: bytes, message: Message, problems: list[str], limit: int | None) -> Bodies:
    """The bodies and attachments of a message; read again with compat32 when the modern policy fails."""
    bodies = Bodies()
    try:
        _walk(message, bodies, problems, limit)
        return bodies
    except Exception as exc:
        problems.append(f"reading the body with the modern policy failed ({type(exc).__name__}): retried")
    bodies = Bodies()
    try:
        _walk(BytesParser(policy=policy.compat32).parsebytes(raw), bodies, problems, limit)
    except Exception as exc:
        problems.append(f"reading the body failed ({type(exc).__name__})")
    return bodies
