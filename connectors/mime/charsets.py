"""Text from bytes and header values in whatever charset a mail declares, or fails to declare.

An unknown or wrong charset costs a guess (utf-8, else windows-1252/latin-1) and a note in `problems`,
never the text.
"""

from __future__ import annotations

import codecs
import re
from email.header import decode_header

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
