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

from __future__ import annotations

import codecs
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser


@dataclass
class Attachment:
    filename: str
    mime_type: str
    content: bytes


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

# Names mail software writes that Python's codec registry does not know, and what they mean.
CHARSET_ALIASES = {
    "x-mac-roman": "mac_roman",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "x-sjis": "shift_jis",
    "x-euc-jp": "euc_jp",
    "x-gbk": "gbk",
    "cp-850": "cp850",
    "ibm850": "cp850",
    "windows-874": "cp874",
    "x-cp1250": "cp1250",
    "x-cp1251": "cp1251",
    "x-cp1252": "cp1252",
}
# Declared charsets whose text is routinely something else: 8-bit bytes sent as "us-ascii" are almost
# always utf-8 or windows-1252, which is a superset of latin-1 for every printable character.
_ASCII_NAMES = {"ascii", "us-ascii", "ansi_x3.4-1968", "646"}


# --- Charsets ----------------------------------------------------------------------------------


def _codec(charset: str | None) -> str | None:
    """The Python codec for a declared charset, or None when the name is unknown."""
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _guess_decode(data: bytes) -> tuple[str, bool]:
    """Text of bytes of unknown charset: utf-8 when it is, else windows-1252/latin-1. (text, clean)."""
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        pass
    utf8 = data.decode("utf-8", errors="replace")
    # A few broken sequences in otherwise utf-8 text are better kept as utf-8 with replacements; text
    # where most non-ASCII bytes are invalid utf-8 is a single-byte charset.
    non_ascii = sum(1 for byte in data if byte >= 0x80)
    if non_ascii and utf8.count("\ufffd") * 4 < non_ascii:
        return utf8, False
    try:
        return data.decode("cp1252"), False
    except UnicodeDecodeError:
        return data.decode("latin-1"), False


def decode_bytes(data: bytes, charset: str | None, problems: list[str], where: str) -> str:
    """Bytes in a declared charset as text; an unknown or wrong charset is guessed and noted."""
    codec = _codec(charset)
    if charset and codec is None:
        text, _ = _guess_decode(data)
        problems.append(f"unknown charset {charset!r} in {where}: decoded as utf-8 or latin-1")
        return text
    if codec is None or codec in _ASCII_NAMES:
        text, clean = _guess_decode(data)
        if not clean:
            problems.append(f"8-bit text without a usable charset in {where}: guessed")
        return text
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        text, _ = _guess_decode(data)
        problems.append(f"text in {where} is not valid {charset}: guessed the charset")
        return text
    except Exception:  # a codec that fails other than by decoding (utf-7 on odd input, …)
        problems.append(f"charset {charset!r} in {where} failed: decoded as latin-1")
        return data.decode("latin-1")


def _raw_header_bytes(value: str) -> bytes:
    # The parser keeps undecodable header bytes as surrogate escapes; get the bytes back.
    return value.encode("ascii", errors="surrogateescape")


def decode_header_text(value: str | None, problems: list[str], where: str) -> str:
    """A header value as text: RFC 2047 encoded words and raw 8-bit bytes decoded, folding undone."""
    if not value:
        return ""
    value = re.sub(r"\r?\n[ \t]+", " ", str(value))
    try:
        parts = decode_header(value)
    except Exception:
        parts = [(value, None)]
    pieces: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            try:
                raw = _raw_header_bytes(chunk)
            except UnicodeEncodeError:
                pieces.append(chunk)
                continue
            pieces.append(
                decode_bytes(raw, None, problems, where) if re.search(rb"[\x80-\xff]", raw) else chunk
            )
        else:
            pieces.append(decode_bytes(chunk, charset, problems, where))
    return re.sub(r"\s+", " ", "".join(pieces)).strip()


# --- Headers -----------------------------------------------------------------------------------


def _raw_headers(message: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        headers.setdefault(name.lower(), []).append(str(value))
    return headers


def _first(headers: dict[str, list[str]], name: str) -> str:
    values = headers.get(name.lower())
    return values[0] if values else ""


def _message_ids(value: str) -> list[str]:
    value = re.sub(r"\s+", " ", value)
    bracketed = re.findall(r"<([^<>]*)>", value)
    ids = bracketed if bracketed else value.split()
    return [found.strip() for found in ids if found.strip()]


def _addresses(values: list[str], problems: list[str], where: str) -> list[tuple[str, str]]:
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


def _date(value: str, problems: list[str]) -> datetime | None:
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


# --- Bodies ------------------------------------------------------------------------------------


class _HTMLText(HTMLParser):
    """Readable text of an HTML body: blocks on their own lines, blockquotes as "> " quotes.

    Quoting the blockquotes keeps a reply's history recognisable as history once the HTML is text.
    """

    SKIPPED = frozenset({"script", "style", "head", "title", "noscript", "template", "svg"})
    PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr"})
    LINES = frozenset({"div", "li", "tr", "dd", "dt", "section", "article", "header", "footer", "address"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.current: list[str] = []
        self.depth = 0
        self.line_depth = 0
        self.skipping = 0
        self.pre = 0

    def _newline(self, *, hard: bool = False) -> None:
        """End the current line. Block edges only break a line that has text; <br> always breaks."""
        text = "".join(self.current).replace("\xa0", " ")
        text = text.rstrip() if self.pre else text.strip()
        if text or hard:
            self.lines.append((self.line_depth, text))
        self.current = []
        self.line_depth = self.depth

    def _paragraph(self) -> None:
        self._newline()
        if self.lines and self.lines[-1][1]:
            self.lines.append((self.depth, ""))

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "body":
            self.skipping = 0  # a <head> that was never closed must not hide the body
        elif tag in self.SKIPPED:
            self.skipping += 1
        elif tag == "blockquote":
            self._paragraph()
            self.depth += 1
            self.line_depth = self.depth
        elif tag in self.PARAGRAPHS:
            self._paragraph()
            self.pre += tag == "pre"
        elif tag == "br":
            self._newline(hard=True)
        elif tag in self.LINES:
            self._newline()
        elif tag in {"td", "th"}:
            self.current.append(" ")

    def handle_startendtag(self, tag: str, attrs) -> None:
        if tag == "br":
            self._newline(hard=True)
        elif tag == "hr":
            self._paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "blockquote":
            self._newline()
            self.depth = max(0, self.depth - 1)
            self.line_depth = self.depth
            self.lines.append((self.depth, ""))
        elif tag in self.PARAGRAPHS:
            self.pre = max(0, self.pre - (tag == "pre"))
            self._paragraph()
        elif tag in self.LINES:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if self.pre:
            first, *rest = data.split("\n")
            self.current.append(first)
            for line in rest:
                self._newline(hard=True)
                self.current.append(line)
            return
        # Whitespace in HTML is insignificant: runs of it are one space, and none at a line's start.
        data = re.sub(r"[ \t\r\n\f]+", " ", data)
        if data.startswith(" ") and (not self.current or self.current[-1].endswith(" ")):
            data = data[1:]
        self.current.append(data)

    def text(self) -> str:
        self._newline()
        lines = self.lines
        out: list[str] = []
        for index, (depth, line) in enumerate(lines):
            if line:
                out.append(("> " * depth + line) if depth else line)
                continue
            if not out or not out[-1]:
                continue
            # A blank line inside a quote stays quoted only between two quoted lines.
            following = next((d for d, text in lines[index + 1 :] if text), 0)
            previous = next((d for d, text in reversed(lines[:index]) if text), 0)
            depth = min(following, previous)
            out.append(">" * depth if depth else "")
        return "\n".join(out).strip()


def html_to_text(html: str) -> str:
    """HTML as readable plain text, with only the standard library."""
    parser = _HTMLText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; this only guards against the unforeseen
        return re.sub(r"<[^>]+>", " ", html)
    return parser.text()


@dataclass
class _Bodies:
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
    bodies: _Bodies, *, filename: str, mime_type: str, content: bytes, limit: int | None, problems: list[str]
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
    headers = _raw_headers(message)
    inner = _Bodies()
    _walk(message, inner, problems, limit, depth=1)
    body = "\n\n".join(inner.plain) or html_to_text("\n".join(inner.html))
    lines = ["---------- Forwarded message ---------"]
    for name in ("From", "Date", "Subject", "To"):
        value = decode_header_text(_first(headers, name), problems, f"forwarded {name}")
        if value:
            lines.append(f"{name}: {value}")
    return "\n".join(lines) + "\n\n" + body.strip()


def _walk(part: Message, bodies: _Bodies, problems: list[str], limit: int | None, depth: int = 0) -> None:
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


# --- Quoted history and forwarded blocks -------------------------------------------------------

_REPLY_VERBS = (
    r"wrote|writes|schrieb|a\s+écrit|a\s+ecrit|escribió|escribio|schreef|ha\s+scritto|escreveu|skrev|"
    r"kirjoitti|napisała|napisał|napisal|napsal|írta|пишет|написала|написал"
)
# "On Mon, 2 Nov 2026, Jonas <j@x> wrote:", "Am 2. Nov. 2026 um 09:14 schrieb Jonas <j@x>:",
# "Den 2 nov. 2026 kl. 09:14 skrev Jonas <j@x>:", "Le lun. 2 nov. 2026 à 09:14, Jonas <j@x> a écrit :".
_REPLY_HEADER = re.compile(
    rf"^\s*(?P<lead>\S.{{0,300}}?)\b(?:{_REPLY_VERBS})\b[^\n:]{{0,160}}:\s*$", re.IGNORECASE | re.DOTALL
)
_REPLY_LEADS = re.compile(
    r"^\s*(on|am|le|el|op|il|em|den|d\.|dne|w\s+dniu|päivänä|el\s+día|в)\b", re.IGNORECASE
)
_SEPARATOR_WORDS = (
    r"original\s+message|ursprüngliche\s+nachricht|originalnachricht|message\s+d'origine|"
    r"mensaje\s+original|ursprungligt\s+meddelande|oorspronkelijk\s+bericht|messaggio\s+originale|"
    r"mensagem\s+original|opprinnelig\s+melding|oprindelig\s+meddelelse|alkuperäinen\s+viesti|"
    r"forwarded\s+message|weitergeleitete\s+nachricht|message\s+transféré|mensaje\s+reenviado|"
    r"vidarebefordrat\s+meddelande|doorgestuurd\s+bericht|messaggio\s+inoltrato|"
    r"mensagem\s+encaminhada|videresendt\s+melding|videresendt\s+meddelelse|edelleenlähetetty\s+viesti"
)
_SEPARATOR = re.compile(rf"^\s*[-_=*]{{2,}}\s*(?:{_SEPARATOR_WORDS})\s*[-_=*]{{2,}}\s*$", re.IGNORECASE)
_FORWARD_INTRO = re.compile(
    r"^\s*(begin\s+forwarded\s+message|anfang\s+der\s+weitergeleiteten\s+nachricht|"
    r"début\s+du\s+message\s+réexpédié|début\s+du\s+message\s+transféré|vidarebefordrat\s+brev|"
    r"inizio\s+messaggio\s+inoltrato|comienza\s+el\s+mensaje\s+reenviado|"
    r"doorgestuurd\s+bericht|forwarded\s+message)\s*:\s*$",
    re.IGNORECASE,
)
# Outlook puts the original's headers in the body: "From: … / Sent: … / To: … / Subject: …".
_OUTLOOK_FROM = re.compile(
    r"^\s*\*?\s*(from|von|från|de|van|da|fra|lähettäjä|od|от)\s*\*?\s*:\s*\S", re.IGNORECASE
)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?\s*(sent|date|gesendet|datum|skickat|envoyé|verzonden|inviato|enviado|sendt|lähetetty|"
    r"wysłano|отправлено|to|an|till|à|aan|a|para|til|vastaanottaja|do|кому|subject|betreff|ämne|objet|"
    r"onderwerp|oggetto|asunto|assunto|emne|aihe|temat|тема|cc)\s*\*?\s*:",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")


def _reply_header_at(lines: list[str], index: int) -> int:
    """How many lines (1–3) form an "On … wrote:" header starting at `index`; 0 when none does."""
    first = lines[index]
    if not first.strip():
        return 0
    for count in (1, 2, 3):
        if index + count > len(lines) or not lines[index + count - 1].strip():
            break
        candidate = " ".join(line.strip() for line in lines[index : index + count])
        if len(candidate) > 400:
            break
        match = _REPLY_HEADER.match(candidate)
        if not match:
            continue
        # Only a header names when, or whom: a date, a time or an address, or the usual first word.
        # A header wrapped over lines starts with such a line, so a name above it is not taken along.
        starts_like_header = _REPLY_LEADS.match(first) or re.search(r"@|\d", first)
        if count == 1 and (_REPLY_LEADS.match(candidate) or re.search(r"@|\d", match.group("lead"))):
            return count
        if count > 1 and starts_like_header:
            return count
    return 0


def _outlook_block_at(lines: list[str], index: int) -> bool:
    if not _OUTLOOK_FROM.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 6] if line.strip()][:3]
    return sum(1 for line in following if _OUTLOOK_NEXT.match(line)) >= 2


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted text): history and forwarded blocks apart from what the sender wrote now.

    A separator (Outlook's original-message headers, a forwarded-message line) ends the new text: all
    below it is history. After an "On … wrote:" header the history is "> " quoted, and lines without
    "> " that follow are the sender's answers written between the quotes (bottom posting).
    """
    lines = text.splitlines()
    new: list[str] = []
    quoted: list[str] = []
    index = 0
    after_reply_header = False
    while index < len(lines):
        line = lines[index]
        if _SEPARATOR.match(line) or _FORWARD_INTRO.match(line) or _outlook_block_at(lines, index):
            quoted.extend(lines[index:])
            break
        if _UNDERSCORES.match(line) and index + 1 < len(lines):
            following = next((i for i in range(index + 1, len(lines)) if lines[i].strip()), None)
            if following is not None and _outlook_block_at(lines, following):
                quoted.extend(lines[index:])
                break
        header_lines = 0 if line.lstrip().startswith(">") else _reply_header_at(lines, index)
        if header_lines:
            rest = [candidate for candidate in lines[index + header_lines :] if candidate.strip()]
            quoted.extend(lines[index : index + header_lines])
            index += header_lines
            if rest and not rest[0].lstrip().startswith(">"):
                # History without "> " marks (some clients): everything below the header is history.
                quoted.extend(lines[index:])
                break
            after_reply_header = True
            continue
        in_quote = after_reply_header and bool(quoted) and quoted[-1].lstrip().startswith(">")
        if line.lstrip().startswith(">") or (not line.strip() and in_quote):
            quoted.append(line)
        else:
            new.append(line)
        index += 1
    return _tidy("\n".join(new)), _tidy("\n".join(quoted))


def _tidy(text: str) -> str:
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- Auto-replies and bounces ------------------------------------------------------------------

_AUTO_REPLY_SUBJECT = re.compile(
    r"\b(out\s+of\s+(the\s+)?office|automatic\s+reply|auto[-\s]?reply|autoreply|auto[-\s]?response|"
    r"abwesenheitsnotiz|automatische\s+antwort|abwesend|réponse\s+automatique|reponse\s+automatique|"
    r"absence\s+du\s+bureau|frånvaro|frånvarande|autosvar|automatiskt\s+svar|respuesta\s+automática|"
    r"fuera\s+de\s+la\s+oficina|risposta\s+automatica|fuori\s+(sede|ufficio)|afwezig|"
    r"automatisch\s+antwoord|poissa\s+toimistolta|on\s+vacation|away\s+from\s+(the\s+)?office)\b",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(delivery\s+status\s+notification|undelivered\s+mail|undeliverable|mail\s+delivery\s+(failed|"
    r"failure|subsystem)|delivery\s+(failure|has\s+failed)|returned\s+mail|failure\s+notice|"
    r"unzustellbar|nicht\s+zustellbar|non\s+remis|olevererbart|kunde\s+inte\s+levereras)",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)


def _is_auto_reply(headers: dict[str, list[str]], subject: str) -> bool:
    auto_submitted = _first(headers, "Auto-Submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return True
    if headers.get("x-autoreply") or headers.get("x-autorespond"):
        return True
    precedence = _first(headers, "Precedence").strip().lower()
    if precedence == "auto_reply":
        return True
    # An out-of-office subject is enough on its own, whether or not Precedence says bulk or junk.
    return bool(_AUTO_REPLY_SUBJECT.search(subject))


def _is_bounce(*, from_email: str, subject: str, delivery_status: bool) -> bool:
    return delivery_status or bool(_BOUNCE_SENDERS.match(from_email) or _BOUNCE_SUBJECT.search(subject))


# --- The parser --------------------------------------------------------------------------------


def _parse_structure(raw: bytes, problems: list[str]) -> Message | None:
    for mail_policy in (policy.default, policy.compat32):
        try:
            return BytesParser(policy=mail_policy).parsebytes(raw)
        except Exception as exc:
            problems.append(
                f"the {'modern' if mail_policy is policy.default else 'compat32'} parser failed: {exc}"
            )
    return None


def _collect_bodies(raw: bytes, message: Message, problems: list[str], limit: int | None) -> _Bodies:
    bodies = _Bodies()
    try:
        _walk(message, bodies, problems, limit)
        return bodies
    except Exception as exc:
        problems.append(f"reading the body with the modern policy failed ({type(exc).__name__}): retried")
    bodies = _Bodies()
    try:
        _walk(BytesParser(policy=policy.compat32).parsebytes(raw), bodies, problems, limit)
    except Exception as exc:
        problems.append(f"reading the body failed ({type(exc).__name__})")
    return bodies


def _structure_problem(message: Message) -> str:
    """Why a message declared multipart has no parts, or "" when its structure is usable."""
    defects = {type(defect).__name__ for defect in message.defects}
    if message.get_content_maintype() == "multipart" and not message.is_multipart():
        if "NoBoundaryInMultipartDefect" in defects:
            return f"broken MIME structure: {message.get_content_type()} without a boundary"
        return f"broken MIME structure: the boundary of {message.get_content_type()} is never found"
    return ""


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
    headers = _raw_headers(message)
    if not headers:
        return _empty(problems, "no parseable headers: the data does not start with a mail header")
    defects = {type(defect).__name__ for defect in message.defects}
    if "MissingHeaderBodySeparatorDefect" in defects:
        problems.append("a header line is malformed: the rest was read as the body")

    senders = _addresses(headers.get("from", []), problems, "From")
    from_name, from_email = senders[0] if senders else ("", "")
    to = [address for _, address in _addresses(headers.get("to", []), problems, "To")]
    cc = [address for _, address in _addresses(headers.get("cc", []), problems, "Cc")]
    subject = decode_header_text(_first(headers, "Subject"), problems, "Subject")
    message_ids = _message_ids(_first(headers, "Message-ID"))
    message_id = message_ids[0] if message_ids else None
    if message_id is None:
        problems.append("no Message-ID")
    in_reply_to_ids = _message_ids(_first(headers, "In-Reply-To"))
    references = _message_ids(" ".join(headers.get("references", [])))
    date = _date(_first(headers, "Date"), problems)
    kept = {
        name: re.sub(r"\s+", " ", _first(headers, name)).strip()
        for name in KEPT_HEADERS
        if _first(headers, name).strip()
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

    bodies = _collect_bodies(raw, message, problems, limit)
    if bodies.decoded_parts == 0 and bodies.failed_parts:
        return _empty(problems, "broken MIME structure: no body part could be decoded", **found)
    html = "\n".join(part for part in bodies.html if part.strip())
    plain = "\n\n".join(part.strip("\n") for part in bodies.plain if part.strip())
    text = plain if plain.strip() else html_to_text(html)
    text = _tidy(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text and not bodies.attachments:
        problems.append("empty body")
    new_text, quoted_text = split_quoted(text)
    if bodies.forwarded:
        quoted_text = "\n\n".join(part for part in (quoted_text, *bodies.forwarded) if part)
    return ParsedMail(
        **found,
        text=text,
        html=html,
        new_text=new_text,
        quoted_text=quoted_text,
        attachments=bodies.attachments,
        is_auto_reply=_is_auto_reply(headers, subject),
        is_bounce=_is_bounce(from_email=from_email, subject=subject, delivery_status=bodies.delivery_status),
        problems=problems,
        fatal="",
    )
