"""Invoice numbers as people write them: the workspace's own format, and finding them in free text.

An invoice of ours is numbered `PREFIX-YYYY-NNNN` (ADR 0002). Clients, their accounting software and
their banks write the same number many ways: `NW-2026-0042`, `NW20260042`, `NW 2026/42`, "Rechnung
2026-42", "invoice 2026-0042", "inv 42". `invoice_numbers_find` reads all of them back to the one
spelling, so a mail's or a bank transfer's reference can be compared with our records. A number after
an invoice word that is not in our format (a supplier's `INV-7781`) is kept as written: it is not ours.

Used by the intake extraction (agents) and by the bank statement matching, hence here in core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The words that name an invoice, in the languages our clients write in (with common abbreviations).
_INVOICE_WORD = (
    r"(?:invoices?|inv|rechnung(?:s(?:nummer|nr))?|rg|re[-.\s]?nr|faktura(?:nr|nummer)?|fakturan|facture|"
    r"factura|fattura|lasku)"
)
# German remittances write "RE 2026-42" for Rechnung; only with a year, since "re" is also "about".
_INVOICE_WORD_WITH_YEAR = rf"(?:{_INVOICE_WORD}|re)"
_NUMBER_LABEL = r"\.?\s*(?:(?:no|nr|num|number|nummer|n°|nº)\.?\s*)?[:#]?\s*"
_YEAR = r"(?P<year>20\d{2})"


@dataclass(frozen=True)
class InvoiceRef:
    """One mention: `number` in our spelling when `ours`, else as written; where it stood in the text."""

    number: str
    ours: bool
    start: int
    end: int


def invoice_number_format(*, prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year}-{sequence:04d}"


def _patterns(prefix: str) -> list[tuple[re.Pattern[str], str]]:
    """(pattern, kind) from the most to the least specific; `prefix` is matched without regard to case."""
    own = re.escape(prefix)
    sep = r"[-\s_/.]?"
    end = r"(?![\w-]|[.,/:]\d)"  # not the head of a longer code, a date or an amount
    sequence = r"(?P<seq>\d{1,6})"
    label = _INVOICE_WORD + _NUMBER_LABEL
    return [
        # NW-2026-0042, NW 2026/42, NW_2026_0042, nw-2026-42
        (re.compile(rf"(?<![\w-]){own}{sep}{_YEAR}[-\s_/.]{sequence}{end}", re.I), "ours"),
        # NW20260042: the prefix, the year and the (zero-padded) sequence run together
        (re.compile(rf"(?<![\w-]){own}{_YEAR}(?P<seq>\d{{2,6}}){end}", re.I), "ours"),
        # invoice 2026-42, Rechnung Nr. 2026/0042, facture 2026-0042, RE 2026-42
        (re.compile(rf"\b{_INVOICE_WORD_WITH_YEAR}{_NUMBER_LABEL}{_YEAR}[-/_]{sequence}{end}", re.I), "year"),
        # inv 42, invoice #42, Rechnung Nr. 42 (a number that is not itself a year)
        (re.compile(rf"\b{label}(?!20\d\d\b){sequence}{end}", re.I), "sequence"),
        # invoice INV-7781, Rechnung R-2026-118: somebody else's numbering
        (re.compile(rf"\b{label}(?P<other>[A-Z]{{1,6}}[-/]?\d[\w/-]*\d)\b", re.I), "other"),
    ]


def invoice_numbers_find(text: str, *, prefix: str, year: int | None = None) -> list[InvoiceRef]:
    """Every invoice number in `text`, in order of appearance, each place once.

    `prefix` is the workspace's. `year` completes a bare sequence ("inv 42"): the year of the mail or of
    the bank booking; without it a bare sequence is not read as one of ours.
    """
    found: list[InvoiceRef] = []
    taken: list[tuple[int, int]] = []
    for pattern, kind in _patterns(prefix):
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                continue
            if kind == "other":
                written = match.group("other").upper()
                if written.startswith(prefix.upper()):
                    continue  # our prefix in a shape of ours that did not parse: not a number we issued
                found.append(InvoiceRef(written, False, match.start("other"), end))
            elif kind == "sequence":
                if year is None:
                    continue
                number = invoice_number_format(prefix=prefix, year=year, sequence=int(match.group("seq")))
                found.append(InvoiceRef(number, True, match.start("seq"), end))
            else:
                sequence = int(match.group("seq"))
                if sequence == 0:
                    continue
                number = invoice_number_format(
                    prefix=prefix, year=int(match.group("year")), sequence=sequence
                )
                found.append(InvoiceRef(number, True, start if kind == "ours" else match.start("year"), end))
            taken.append((start, end))
    return sorted(found, key=lambda ref: ref.start)


def invoice_numbers_in(text: str, *, prefix: str, year: int | None = None) -> list[str]:
    """The distinct numbers `invoice_numbers_find` reads, sorted: ours in our spelling, others as written."""
    return sorted({ref.number for ref in invoice_numbers_find(text, prefix=prefix, year=year)})
