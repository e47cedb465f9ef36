"""The signed inbound-mail webhook, mounted at /api/v1/ by aios/api.py.

`POST /api/v1/inbound/email` takes one raw mail as its body. It is not behind the operator's sign-in or
tokens (a mail provider calls it): it authenticates by signature instead.

    X-AIOS-Timestamp: <unix seconds>
    X-AIOS-Signature: sha256=<hex HMAC-SHA256 of f"{timestamp}.".encode() + body>

The HMAC key is AIOS_INBOUND_WEBHOOK_SECRET.

A timestamp outside the window (AIOS_INBOUND_WEBHOOK_WINDOW, 300 s) is refused, so a captured request
cannot be replayed later; within the window a replay is a duplicate Message-ID and imports nothing.

Size: a mail over AIOS_MAIL_MAX_BYTES is still taken (202 `review`) and waits in the review queue with its
bytes, as an oversized mail fetched over IMAP does; only a body over the hard cap
AIOS_INBOUND_WEBHOOK_MAX_BYTES is refused (413) unread. The body may come with Content-Length or
`Transfer-Encoding: chunked` (the WSGI server, gunicorn in production, de-chunks it).
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema, Status

from connectors import services
from connectors.models import InboundMail
from core import clock

router = Router(tags=["inbound"])

_CONTENT_TYPES = {"message/rfc822", "application/octet-stream"}


class InboundOut(Schema):
    status: str
    inbound_id: int
    message_id: str | None


class DetailOut(Schema):
    detail: str


def _refusal(status: int, detail: str) -> Status:
    return Status(status, {"detail": detail})


def signature_for(*, secret: str, timestamp: str, body: bytes) -> str:
    """The X-AIOS-Signature value a sender computes (also what the tests and client code use)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class _TooLarge(Exception):
    pass


def _is_chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def _read_body(request: HttpRequest, cap: int) -> bytes:
    """The body, up to `cap` bytes (raises _TooLarge past it). Read from the stream: `request.body` refuses
    anything above DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), far below the mail limit."""
    if hasattr(request, "_body"):
        body = request._body
    elif request.META.get("CONTENT_LENGTH") or not _is_chunked(request):
        body = request.read(cap + 1)
    else:
        # Chunked: no Content-Length, so Django's own stream is empty; the WSGI server hands over the
        # de-chunked body in wsgi.input. Read it in pieces, never more than the cap plus one byte.
        stream = request.environ["wsgi.input"]
        pieces, size = [], 0
        while size <= cap:
            piece = stream.read(min(1024 * 1024, cap + 1 - size))
            if not piece:
                break
            pieces.append(piece)
            size += len(piece)
        body = b"".join(pieces)
    if len(body) > cap:
        raise _TooLarge
    return body


@router.post(
    "/inbound/email",
    auth=None,
    response={202: InboundOut, frozenset({401, 411, 413, 415, 503}): DetailOut},
    summary="Receive one raw mail (signed webhook)",
)
def inbound_email(request: HttpRequest):
    """Import one raw MIME mail (Content-Type message/rfc822 or application/octet-stream). 202 with the
    outcome: `imported`, `duplicate` (Message-ID seen before) or `review` (kept for the operator, e.g. a
    mail over AIOS_MAIL_MAX_BYTES). A body over AIOS_INBOUND_WEBHOOK_MAX_BYTES is refused with 413."""
    secret = settings.AIOS_INBOUND_WEBHOOK_SECRET
    if not secret:
        return _refusal(503, "The inbound webhook is not configured: set AIOS_INBOUND_WEBHOOK_SECRET.")
    cap = settings.AIOS_INBOUND_WEBHOOK_MAX_BYTES
    too_large = (
        f"The mail is larger than the webhook's hard limit of {cap} bytes (AIOS_INBOUND_WEBHOOK_MAX_BYTES); "
        "nothing was stored."
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > cap:
        return _refusal(413, too_large)
    try:
        body = _read_body(request, cap)
    except _TooLarge:
        return _refusal(413, too_large)
    if not body and _is_chunked(request):
        return _refusal(
            411, "The chunked body did not arrive (this server does not de-chunk): send a Content-Length."
        )

    timestamp = request.headers.get("X-AIOS-Timestamp", "").strip()
    provided = request.headers.get("X-AIOS-Signature", "").strip()
    if not timestamp or not provided:
        return _refusal(401, "Sign the request: X-AIOS-Timestamp and X-AIOS-Signature headers are required.")
    expected = signature_for(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", errors="replace")):
        return _refusal(401, "The signature does not match the body and timestamp.")
    try:
        age = abs(clock.timestamp() - int(timestamp))
    except ValueError:
        return _refusal(401, "X-AIOS-Timestamp must be a Unix time in seconds.")
    window = settings.AIOS_INBOUND_WEBHOOK_WINDOW_SECONDS
    if age > window:
        return _refusal(
            401, f"The timestamp is more than {window} seconds away from now: refused as a replay."
        )

    content_type = (request.content_type or "").lower()
    if content_type not in _CONTENT_TYPES:
        return _refusal(415, "Send the raw mail as message/rfc822 or application/octet-stream.")

    inbound = services.mail_ingest(
        raw=body,
        path=InboundMail.Path.WEBHOOK,
        source=f"webhook {timestamp} {expected[7:23]}",
    )
    return Status(
        202,
        {
            "status": inbound.status,
            "inbound_id": inbound.pk,
            "message_id": inbound.message_id_header or None,
        },
    )
