"""The one shape every statement format is read into, the error a bad file gets, and the text helpers the
parsers share (amounts in either decimal convention, IBANs, a payer's name inside free text)."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from core.matching import iban_compact, name_key


class StatementError(ValueError):
    """A statement that cannot be read; the message names the line or the element."""


@dataclass(frozen=True)
class ParsedEntry:
    entry_ref: str
    booked_on: dt.date
    amount: Decimal  # signed: credits positive
    currency: str
    counterparty: str = ""
    counterparty_iban: str = ""
    remittance: str = ""


@dataclass
class ParsedStatement:
    format: str
    account: str = ""
    statement_ref: str = ""
    entries: list[ParsedEntry] = field(default_factory=list)


def amount_parse(text: str, *, decimal_comma: bool | None = None) -> Decimal:
    """`1.400,00`, `1,400.00`, `-89,00`, `89,00-`, `+45.50 EUR`, `(12.00)` → Decimal. `decimal_comma` settles
    `1.400` / `1,400` when the value alone cannot."""
    raw = (text or "").strip()
    value = re.sub(r"^[A-Za-z]{3}\s*|\s*[A-Za-z]{3}$", "", raw)  # "EUR 12,00", "12,00 EUR"
    value = re.sub(r"[€$£\s\u00a0']", "", value)
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1]
    if value.endswith("-"):
        negative, value = True, value[:-1]
    if value.startswith(("-", "+")):
        negative, value = value[0] == "-", value[1:]
    if not re.fullmatch(r"\d[\d.,]*", value or ""):
        raise ValueError(f"{raw!r} is not an amount")
    if "," in value and "." in value:
        decimal = "," if value.rfind(",") > value.rfind(".") else "."
    elif "," in value:
        decimal = "," if decimal_comma or not re.fullmatch(r"\d{1,3}(,\d{3})+", value) else ""
    elif "." in value:
        decimal = "." if not decimal_comma or not re.fullmatch(r"\d{1,3}(\.\d{3})+", value) else ""
    else:
        decimal = ""
    thousands = {",": ".", ".": ",", "": ",."}[decimal]
    for char in thousands:
        value = value.replace(char, "")
    value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not an amount") from None
    return (-number if negative else number).quantize(Decimal("0.01"))


_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]){10,30}\b")


def iban_valid(value: str) -> str:
    """The IBAN in compact form when it is a valid IBAN, else ""."""
    return _iban_checked(iban_compact(value))


@functools.lru_cache(maxsize=65536)  # a statement repeats its payers' accounts
def _iban_checked(compact: str) -> str:
    if not 15 <= len(compact) <= 34:
        return ""
    try:
        return str(IBAN(compact).compact)
    except SchwiftyException:
        return ""


# Words of a remittance text that are never part of the payer's name.
REMITTANCE_WORDS = {
    word.lower()
    for word in """
    payment payments paid pay invoice invoices inv ref reference refund transfer thanks thank you deposit
    balance fee fees order salary rent credit debit standing instalment installment final partial
    zahlung zahlungen teilzahlung anzahlung restzahlung abschlag abschlagszahlung rechnung rechnungen
    gutschrift rueckerstattung rückerstattung erstattung ueberweisung überweisung lastschrift miete gehalt
    danke dank vielen beitrag vertrag kundennummer auftrag bestellung monat
    faktura fakturanr betaling betalning innbetaling facture factures paiement virement remboursement
    acompte solde fattura pagamento bonifico factuur
    """.split()
}
# Small words inside names ("Grant and Fern", "Petit de Paris", "Berg & Co").
NAME_JOINERS = {
    "&",
    "and",
    "und",
    "et",
    "og",
    "och",
    "de",
    "du",
    "des",
    "la",
    "le",
    "van",
    "von",
    "der",
    "den",
    "of",
    "+",
}


def split_name_from_text(text: str, *, known_names: set[str]) -> tuple[str, str]:
    """(remittance, payer name) of a free-text booking line, as in an unstructured MT940 `:86:` ("Invoices
    NW-2026-0004 and NW-2026-0005 Holm Ceramics ApS").

    A name known for a client or payer wins (the longest run of words at the end, else at the start, that
    is one); otherwise the trailing words that look like a name: no digits, no remittance word,
    capitalised or a joiner."""
    words = text.split()
    for size in range(min(8, len(words)), 0, -1):
        tail = " ".join(words[-size:])
        if name_key(tail) in known_names:
            return " ".join(words[:-size]), tail
    for size in range(min(8, len(words)), 0, -1):  # some banks put the name first
        head = " ".join(words[:size])
        if name_key(head) in known_names:
            return " ".join(words[size:]), head
    start = len(words)
    while start > 0 and len(words) - start < 6:
        word = words[start - 1]
        bare = word.strip(".,;:()").lower()
        looks_like_name = (
            not any(char.isdigit() for char in word)
            and bare not in REMITTANCE_WORDS
            and (word[:1].isupper() or (bare in NAME_JOINERS and start < len(words)))
        )
        if not looks_like_name:
            break
        start -= 1
    while start < len(words) and words[start].lower() in NAME_JOINERS:
        start += 1
    return " ".join(words[:start]), " ".join(words[start:])


def details_split(text: str, *, known_names: set[str]) -> tuple[str, str, str]:
    """(remittance, name, IBAN) of free booking text: a valid IBAN anywhere in it is the payer's account
    and cut out; the name is split from the rest by `split_name_from_text`."""
    iban = ""
    for candidate in _IBAN_CANDIDATE.finditer(text):
        valid = iban_valid(candidate.group())
        if valid:
            iban = valid
            text = (text[: candidate.start()] + " " + text[candidate.end() :]).strip()
            break
    text = " ".join(text.split())
    remittance, name = split_name_from_text(text, known_names=known_names)
    return remittance, name, iban
