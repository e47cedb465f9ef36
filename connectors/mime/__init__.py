"""Defensive parsing of one raw email (RFC 5322 / MIME) into what the workspace reads from it.

`parse_message` never raises. Mail from the outside is often wrong in small ways (a charset nobody
knows, broken base64, a header with raw 8-bit bytes) and sometimes wrong in big ones (no headers, no
sender, a multipart without its boundary). Small problems are repaired as well as possible and noted in
`ParsedMail.problems`; when the mail cannot be used at all, `ParsedMail.fatal` says why, so the importer
can put it in the review queue with its raw bytes instead of dropping it.

Only the standard `email` package is used: `policy.default` for the structure, with `policy.compat32`
as the fallback when the modern policy raises on a malformed message. Headers are decoded here from
their raw values (RFC 2047 words, raw 8-bit bytes) so that an unknown charset costs a replacement
character, not the whole header.
"""

from connectors.mime.charsets import CHARSET_ALIASES, decode_bytes, decode_header_text
from connectors.mime.headers import KEPT_HEADERS
from connectors.mime.html_text import html_to_text
from connectors.mime.parse import ParsedMail, parse_message
from connectors.mime.parts import Attachment
from connectors.mime.quoting import split_quoted

__all__ = [
    "CHARSET_ALIASES",
    "KEPT_HEADERS",
    "Attachment",
    "ParsedMail",
    "decode_bytes",
    "decode_header_text",
    "html_to_text",
    "parse_message",
    "split_quoted",
]
