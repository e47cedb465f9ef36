"""Matching an incoming payment to open invoices (ADR 0016). Pure: no database, no clock.

`MatchIndex` is built once per statement from the open invoices and the payer accounts and names known
per client (`core.selectors.payment_match_index`), then matches each credit in a few dictionary lookups,
so a statement of ten thousand lines is matched in well under a second.

The signals, strongest first:
1. invoice numbers in the remittance text, in any spelling: the full number with or without separators
   (`NW-2026-0042`, `nw20260042`, `NW 2026/42`), year and sequence after an invoice word
   (`Rechnung 2026-42`, `Invoice no. 2026/42`) or bare (`2026-42`, never a date), and the sequence alone
   after an invoice word (`inv 42`, `Rechnungen 41, 42 und 43`);
2. the payer: an IBAN known for a client, else the payer's name equal to a client's or a known payer's
   name (accents, case, punctuation, `&`/`and` and legal forms aside);
3. the amount: equal to one open amount, or to the sum of a few of the payer's open invoices.

Outcomes: `exact` (one invoice, amount equal), `several` (one transfer settles several invoices),
`partial` (less than the named invoices' open amount; the rest stays open), `overpaid` (more; the rest is
the client's credit), `ambiguous` (the operator chooses among the candidates), `none`.
A named invoice of one client paid from an account known for another is never matched: it goes to the
operator as ambiguous, whatever the amount, and nothing is proposed.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

EXACT, SEVERAL, PARTIAL, OVERPAID, AMBIGUOUS, NONE = (
    "exact",
    "several",
    "partial",
    "overpaid",
    "ambiguous",
    "none",
)
MATCHED = (EXACT, SEVERAL, PARTIAL, OVERPAID)

# Words that introduce an invoice reference, in the languages of the workspace's clients.
INVOICE_WORDS = (
    r"INVOICES?|INV|RECHNUNGEN|RECHNUNGSNUMMER|RECHNUNGSNR|RECHNUNG|RGNR|RG|RE|RNR|FAKTURA|FAKTURANR"
    r"|FAKTURANUMMER|FACTURES?|FACTURA|FATTURA|FACTUUR|LASKU|NOTA|BILL|REF|REFERENCE|NR|NO|NUMBER|NUMMER"
)
_WORD = re.compile(rf"(?<![A-Z0-9])(?:{INVOICE_WORDS})\b\.?", re.IGNORECASE)
# After an invoice word: optional "no."/"nr."/"#"/":" then a list of numbers.
_AFTER_WORD = re.compile(
    r"\s*(?:(?:NR|NO|NUMBER|NUMMER)\b\.?)?\s*[:#]?\s*"
    r"((?:\d{4}[-/.]\d{1,6}|\d{1,6})(?:\s*(?:,|;|&|\+|/|AND|UND|ET|OG|OCH|EN|Y|E)\s*(?:\d{4}[-/.]\d{1,6}|\d{1,6}))*)"
    r"(?![\d\-/.]?\d)",
    re.IGNORECASE,
)
_LIST_ITEM = re.compile(r"(\d{4})[-/.](\d{1,6})|(\d{1,6})")
# A bare year-sequence, which must not be part of a date (2026-11-02, 02.11.2026) or a longer number.
_BARE_YEAR_SEQ = re.compile(r"(?<![\d\-/.])(20\d{2})[-/](\d{1,6})(?![\d\-/.]?\d)")

LEGAL_FORMS = {
    "ab",
    "ag",
    "aps",
    "as",
    "asa",
    "bv",
    "co",
    "corp",
    "corporation",
    "eg",
    "ek",
    "ev",
    "gbr",
    "gmbh",
    "inc",
    "kft",
    "kg",
    "llc",
    "llp",
    "ltd",
    "limited",
    "mbh",
    "nv",
    "oy",
    "oyj",
    "plc",
    "sa",
    "sarl",
    "sas",
    "se",
    "sl",
    "sp",
    "spa",
    "sro",
    "srl",
    "ug",
    "zoo",
}


def name_key(name: str) -> str:
    """A payer or client name reduced to what identifies it: no accents, case, punctuation, `&`/`and`."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    text = text.replace("&", " and ").replace("+", " and ").replace(".", "").replace("'", "")
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(word for word in text.split() if word not in {"and", "und", "et", "og", "och"})


@functools.lru_cache(maxsize=65536)  # a statement repeats its payers' names
def name_keys(name: str) -> frozenset[str]:
    """The name's key, and the key without trailing legal forms ("Berg Bakery AB" is "Berg Bakery")."""
    key = name_key(name)
    words = key.split()
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    return frozenset({key, " ".join(words)} - {""})


def iban_compact(value: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", (value or "").upper())


_NUMBER_PARTS = re.compile(r"^(?P<prefix>.*?)[-_/ .]?(?P<year>\d{4})[-_/ .]?(?P<sequence>\d{1,9})$")


def number_parts(number: str) -> tuple[str, int, int] | None:
    """(prefix, year, sequence) of an invoice number such as `NW-2026-0042`; None if it has no year."""
    found = _NUMBER_PARTS.match((number or "").strip().upper())
    if not found:
        return None
    return re.sub(r"[^A-Z0-9]", "", found["prefix"]), int(found["year"]), int(found["sequence"])


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    number: str
    client_id: int
    currency: str
    open_amount: Decimal
    due_date: dt.date | None = None


@dataclass(frozen=True)
class Credit:
    amount: Decimal
    currency: str
    counterparty: str = ""
    iban: str = ""
    remittance: str = ""


@dataclass
class Match:
    kind: str
    invoices: list[OpenInvoice] = field(default_factory=list)  # matched, or the candidates if ambiguous
    allocations: list[tuple[OpenInvoice, Decimal]] = field(default_factory=list)
    client_id: int | None = None
    credit_left: Decimal = Decimal("0.00")  # what the client keeps as credit (overpaid)
    reasons: list[str] = field(default_factory=list)

    @property
    def numbers(self) -> list[str]:
        return [invoice.number for invoice in self.invoices]

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "invoices": self.numbers,
            "client_id": self.client_id,
            "allocations": [
                {"invoice_id": invoice.id, "number": invoice.number, "amount": str(amount)}
                for invoice, amount in self.allocations
            ],
            "credit_left": str(self.credit_left),
            "reasons": self.reasons,
        }


@dataclass
class _Reference:
    invoices: list[OpenInvoice]
    strong: bool  # a full number or an invoice word; a bare year-sequence is weak


class MatchIndex:
    """Open invoices and known payers, indexed for matching many credits."""

    max_combination = 4  # one transfer settling up to this many of the payer's invoices
    max_pool = 15  # ... searched among at most this many open invoices

    def __init__(
        self,
        *,
        invoices: Iterable[OpenInvoice],
        payer_ibans: dict[str, int],
        payer_names: Iterable[tuple[str, int]],
    ) -> None:
        self.by_full: dict[tuple[str, int, int], OpenInvoice] = {}
        self.by_year_seq: dict[tuple[int, int], list[OpenInvoice]] = defaultdict(list)
        self.by_seq: dict[int, list[OpenInvoice]] = defaultdict(list)
        self.by_client: dict[int, list[OpenInvoice]] = defaultdict(list)
        self.by_amount: dict[tuple[str, Decimal], list[OpenInvoice]] = defaultdict(list)
        self.prefixes: set[str] = set()
        for invoice in sorted(invoices, key=lambda item: (item.due_date or dt.date.max, item.number)):
            if invoice.open_amount <= 0:
                continue
            parts = number_parts(invoice.number)
            if parts:
                prefix, year, sequence = parts
                self.prefixes.add(prefix)
                self.by_full[parts] = invoice
                self.by_year_seq[(year, sequence)].append(invoice)
                self.by_seq[sequence].append(invoice)
            self.by_client[invoice.client_id].append(invoice)
            self.by_amount[(invoice.currency, invoice.open_amount)].append(invoice)
        self.payer_ibans = {iban_compact(iban): client for iban, client in payer_ibans.items() if iban}
        self.payer_names: dict[str, set[int]] = defaultdict(set)
        for name, client in payer_names:
            for key in name_keys(name):
                self.payer_names[key].add(client)
        prefixes = "|".join(sorted((re.escape(prefix) for prefix in self.prefixes if prefix), key=len)[::-1])
        # The full number, its separators optional: NW-2026-0042, NW20260042, nw 2026/42.
        self._full = (
            re.compile(rf"(?<![A-Z0-9])({prefixes})[\s\-_/.#:]*(\d{{4}})[\s\-_/.]*(\d{{1,6}})(?!\d)")
            if prefixes
            else None
        )

    def known_names(self) -> set[str]:
        return set(self.payer_names)

    # --- Who paid --------------------------------------------------------------------------------

    def payer_clients(self, credit: Credit) -> tuple[set[int], str]:
        """The clients the payer is known for, and how ("iban" / "name" / "")."""
        client = self.payer_ibans.get(iban_compact(credit.iban))
        if client is not None:
            return {client}, "iban"
        for key in name_keys(credit.counterparty):
            if key in self.payer_names:
                return set(self.payer_names[key]), "name"
        return set(), ""

    # --- What the text names ---------------------------------------------------------------------

    def references(self, text: str) -> list[_Reference]:
        upper = (text or "").upper()
        found: list[_Reference] = []
        taken: list[tuple[int, int]] = []
        if self._full is not None:
            for hit in self._full.finditer(upper):
                invoice = self.by_full.get((hit[1], int(hit[2]), int(hit[3])))
                taken.append(hit.span())
                if invoice is not None:
                    found.append(_Reference([invoice], strong=True))
        for word in _WORD.finditer(upper):
            if any(start <= word.start() < end for start, end in taken):
                continue
            after = _AFTER_WORD.match(upper, word.end())
            if not after or not after[1]:
                continue
            taken.append((word.start(), after.end()))
            for item in _LIST_ITEM.finditer(after[1]):
                if item[1]:
                    invoices = self.by_year_seq.get((int(item[1]), int(item[2])), [])
                else:
                    invoices = self.by_seq.get(int(item[3]), [])
                if invoices:
                    found.append(_Reference(list(invoices), strong=True))
        for bare in _BARE_YEAR_SEQ.finditer(upper):
            if any(start <= bare.start() < end for start, end in taken):
                continue
            invoices = self.by_year_seq.get((int(bare[1]), int(bare[2])), [])
            if invoices:
                found.append(_Reference(list(invoices), strong=False))
        return found

    # --- Matching --------------------------------------------------------------------------------

    def match(self, credit: Credit) -> Match:
        if credit.amount <= 0:
            return Match(NONE, reasons=["not a credit"])
        payers, how = self.payer_clients(credit)
        named = self._named(credit, payers)
        if isinstance(named, Match):
            return named
        if named:
            return self.settle(credit, named, reason="the remittance names the invoice")
        return self._by_amount(credit, payers, how)

    def _named(self, credit: Credit, payers: set[int]) -> list[OpenInvoice] | Match:
        """The open invoices the text names, once each; a Match when that alone decides (ambiguous)."""
        chosen: list[OpenInvoice] = []
        for reference in self.references(credit.remittance):
            candidates = [invoice for invoice in reference.invoices if invoice.currency == credit.currency]
            if len(candidates) > 1 and payers:  # e.g. "inv 42" of two years: the payer's own
                candidates = [invoice for invoice in candidates if invoice.client_id in payers] or candidates
            if len(candidates) > 1:  # ... or the one whose open amount is the amount paid
                equal = [invoice for invoice in candidates if invoice.open_amount == credit.amount]
                candidates = equal if len(equal) == 1 else candidates
            if len(candidates) > 1:
                return Match(AMBIGUOUS, invoices=candidates, reasons=["the reference fits several invoices"])
            if not candidates:
                continue
            invoice = candidates[0]
            if not reference.strong and not (
                invoice.client_id in payers or invoice.open_amount == credit.amount
            ):
                continue  # a bare "2026-7" only counts when the payer or the amount agrees
            if invoice not in chosen:
                chosen.append(invoice)
        if not chosen:
            return chosen
        owners = {invoice.client_id for invoice in chosen}
        if len(owners) > 1:
            return Match(
                AMBIGUOUS, invoices=chosen, reasons=["the named invoices belong to different clients"]
            )
        if payers and not owners & payers:
            # Paid from an account (or by a name) known for another client: never settle someone
            # else's invoice on the strength of the text alone.
            fitting = [
                invoice
                for invoice in self.by_amount.get((credit.currency, credit.amount), [])
                if invoice.client_id in payers
            ]
            return Match(
                AMBIGUOUS,
                invoices=[*chosen, *fitting],
                reasons=["the payer is known for another client than the invoice the text names"],
            )
        return chosen

    def settle(self, credit: Credit, invoices: list[OpenInvoice], *, reason: str) -> Match:
        """Allocate the credit over `invoices`, oldest due first."""
        owed = sum((invoice.open_amount for invoice in invoices), Decimal("0.00"))
        left = credit.amount
        allocations = []
        for invoice in invoices:
            if left <= 0:
                break
            part = min(left, invoice.open_amount)
            allocations.append((invoice, part))
            left -= part
        if credit.amount == owed:
            kind = EXACT if len(invoices) == 1 else SEVERAL
        else:
            kind = PARTIAL if credit.amount < owed else OVERPAID
        return Match(
            kind,
            invoices=invoices,
            allocations=allocations,
            client_id=invoices[0].client_id,
            credit_left=max(left, Decimal("0.00")),
            reasons=[reason],
        )

    def _by_amount(self, credit: Credit, payers: set[int], how: str) -> Match:
        equal = self.by_amount.get((credit.currency, credit.amount), [])
        if not payers:
            if equal:  # an unknown payer and only the amount agrees: the operator decides
                return Match(AMBIGUOUS, invoices=list(equal), reasons=["only the amount agrees"])
            return Match(NONE, reasons=["no invoice named, payer unknown, no open amount equal"])
        pool = [
            invoice
            for client in sorted(payers)
            for invoice in self.by_client.get(client, [])
            if invoice.currency == credit.currency
        ]
        own_equal = [invoice for invoice in equal if invoice.client_id in payers]
        if len(own_equal) == 1:
            return self.settle(credit, own_equal, reason=f"payer known by {how}, amount equal")
        if len(own_equal) > 1:
            return Match(AMBIGUOUS, invoices=own_equal, reasons=["several of the payer's invoices fit"])
        combination = self._combination(credit.amount, pool)
        if combination:
            return self.settle(credit, combination, reason=f"payer known by {how}, amounts add up")
        if len(pool) == 1:
            return self.settle(credit, pool, reason=f"payer known by {how}, their only open invoice")
        if pool:
            return Match(AMBIGUOUS, invoices=pool[:10], reasons=[f"payer known by {how}, amount fits none"])
        return Match(NONE, reasons=[f"payer known by {how} but has no open invoice"])

    def _combination(self, amount: Decimal, pool: list[OpenInvoice]) -> list[OpenInvoice] | None:
        """The one set of 2..max_combination invoices of the pool whose open amounts add up to `amount`."""
        if len(pool) < 2 or len(pool) > self.max_pool:
            return None
        found = None
        for size in range(2, min(self.max_combination, len(pool)) + 1):
            for combination in itertools.combinations(pool, size):
                if sum(invoice.open_amount for invoice in combination) == amount:
                    if found is not None:
                        return None  # two ways to add up: the operator decides
                    found = list(combination)
            if found:
                return found
        return None
