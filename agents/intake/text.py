"""The texts a mail's fields are read from, matches of rules in them, and the clause around a match."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from agents.intake.schemas import Evidence


@dataclass(frozen=True)
class Source:
    origin: Literal["new_text", "subject", "quoted_text"]
    text: str


@dataclass(frozen=True)
class Hit:
    """A match of a rule in one source text."""

    origin: str
    start: int
    end: int
    text: str
    weight: float = 1.0

    def evidence(self, confidence: float) -> Evidence:
        return Evidence(
            source=self.text,
            span=(self.start, self.end),
            origin=self.origin,  # type: ignore[arg-type]
            confidence=round(max(0.0, min(1.0, confidence)), 2),
        )


def fold(text: str) -> str:
    """Lower case without accents: "Vélo" and "velo" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def alnum(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


_CLAUSE_END = re.compile(r"[.!?;](?=\s)|\n\s*\n")


def clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence (or clause) around [start, end): context for a number or a date."""
    left = 0
    for boundary in _CLAUSE_END.finditer(text, 0, start):
        left = boundary.end()
    following = _CLAUSE_END.search(text, end)
    return left, following.start() if following else len(text)


def clause_before(text: str, start: int, width: int) -> str:
    left, _ = clause_bounds(text, start, start)
    return text[max(left, start - width) : start]


def find_hits(pattern: re.Pattern[str], sources: Iterable[Source], weight: float = 1.0) -> list[Hit]:
    return [
        Hit(source.origin, match.start(), match.end(), match.group(0), weight)
        for source in sources
        for match in pattern.finditer(source.text)
    ]
