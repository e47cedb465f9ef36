"""Text handling for memory: normalised hashes (dedupe) and chunks sized for the embedding model."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# all-MiniLM-L6-v2 reads at most 256 word pieces (~1000 characters of English); chunks stay well
# below so nothing is cut off, and big enough to carry one point with its context.
CHUNK_CHARS = 700
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_QUOTE_HEADER = re.compile(
    r"^(on .{3,200} wrote:|-{2,}\s*original message\s*-{2,}|-{2,}\s*forwarded message\s*-{2,}|"
    r"begin forwarded message:|from: .+ sent: .+)$",
    re.IGNORECASE,
)


def text_normalise(text: str) -> str:
    """Case, width, whitespace and surrounding punctuation do not make a text different."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _SPACE.sub(" ", folded).strip().strip(".,;:!?\"'()[]-– ").strip()


def text_hash(text: str) -> str:
    return hashlib.sha256(text_normalise(text).encode()).hexdigest()


def new_text(body: str) -> str:
    """The part of an email its sender wrote now: without quoted lines, the quoted history after an
    "On … wrote:" (or "Original message") header, and the signature after "-- "."""
    kept: list[str] = []
    for line in body.splitlines():
        stripped = line.strip()
        if line.rstrip() == "--" or _QUOTE_HEADER.match(stripped):
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _pieces(paragraph: str, limit: int) -> list[str]:
    """A paragraph split at sentence ends, and an over-long sentence at word boundaries."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    return pieces


def text_chunks(text: str, *, limit: int = CHUNK_CHARS) -> list[str]:
    """Chunks of at most `limit` characters that end at paragraph or sentence boundaries.

    Paragraphs are kept together when they fit, so a chunk is one coherent point; short paragraphs
    are packed together so that a signature line or greeting does not become a memory of its own.
    """
    chunks: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        paragraph = _SPACE.sub(" ", paragraph).strip()
        if not paragraph:
            continue
        for piece in [paragraph] if len(paragraph) <= limit else _pieces(paragraph, limit):
            if current and len(current) + 1 + len(piece) > limit:
                chunks.append(current)
                current = piece
            else:
                current = f"{current} {piece}".strip() if current else piece
    if current:
        chunks.append(current)
    return chunks
