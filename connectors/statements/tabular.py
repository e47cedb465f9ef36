"""CSV exports of online banking, English and German (and the like): the delimiter is sniffed (`;` `,` tab
`|`), the encoding is UTF-8 (with or without BOM) or Windows-1252, lines before the header row (account
details many banks print first) are skipped, the header names are recognised from the common ones, or a
mapping saved for the bank (`core.BankCsvMapping`) names the columns. Amounts in either decimal
convention (`1.400,00`, `1,400.00`), signed, in credit/debit columns or with a Soll/Haben marker; dates
as `2026-11-02`, `02.11.2026`, `02/11/2026`, `11/02/2026` — one format for the whole file, the first
that reads every row (day first before month first).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from connectors.statements.entries import (
    ParsedEntry,
    ParsedStatement,
    StatementError,
    amount_parse,
    details_split,
    iban_valid,
)


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9äöüß]+", " ", (header or "").lower()).strip()


# The column names banks use, lower-cased with punctuation as spaces; the first present wins.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": (
        "booking date",
        "buchungstag",
        "buchungsdatum",
        "date",
        "datum",
        "transaction date",
        "posting date",
        "booked",
        "completed date",
        "value date",
        "valutadatum",
        "wertstellung",
        "valuta",
        "started date",
    ),
    "amount": (
        "amount",
        "betrag",
        "betrag eur",
        "amount eur",
        "umsatz",
        "umsatz in eur",
        "betrag in eur",
        "value",
        "transaction amount",
        "amount in eur",
        "summe",
    ),
    "credit": (
        "credit",
        "paid in",
        "money in",
        "haben",
        "gutschrift",
        "einnahme",
        "eingang",
        "credit amount",
    ),
    "debit": ("debit", "paid out", "money out", "soll", "lastschrift", "ausgabe", "ausgang", "debit amount"),
    "marker": ("soll haben", "s h", "credit debit", "cr dr", "dr cr", "debit credit", "type"),
    "currency": ("currency", "währung", "waehrung", "whrg", "ccy", "curr"),
    "counterparty": (
        "counterparty",
        "counter party",
        "auftraggeber empfänger",
        "auftraggeber empfaenger",
        "beguenstigter zahlungspflichtiger",
        "begünstigter zahlungspflichtiger",
        "name zahlungsbeteiligter",
        "zahlungspflichtiger",
        "auftraggeber",
        "empfänger",
        "zahlungsempfänger",
        "payee",
        "payer",
        "name",
        "other party",
        "partner name",
        "merchant",
        "beneficiary",
        "ordering party",
    ),
    "iban": (
        "iban",
        "counterparty iban",
        "iban zahlungsbeteiligter",
        "kontonummer iban",
        "konto iban",
        "account number",
        "kontonummer",
        "counter account",
        "gegenkonto",
    ),
    "remittance": (
        "verwendungszweck",
        "description",
        "payment reference",
        "reference",
        "remittance",
        "remittance information",
        "details",
        "memo",
        "purpose",
        "narrative",
        "text",
        "buchungstext",
        "beschreibung",
        "mitteilung",
    ),
    "ref": ("transaction id", "id", "bank reference", "reference number", "transaktions id", "referenz"),
}
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%Y/%m/%d", "%Y%m%d")


@dataclass(frozen=True)
class Columns:
    date: int
    amount: int | None = None
    credit: int | None = None
    debit: int | None = None
    marker: int | None = None
    currency: int | None = None
    counterparty: int | None = None
    iban: int | None = None
    remittance: int | None = None
    ref: int | None = None
    date_format: str = ""
    decimal_comma: bool | None = None
    default_currency: str = ""


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementError("The CSV is neither UTF-8 nor Windows-1252 text.")


def _columns_by_names(header: list[str]) -> Columns | None:
    keys = [_key(name) for name in header]

    def find(role: str, taken: set[int]) -> int | None:
        for synonym in SYNONYMS[role]:
            for index, key in enumerate(keys):
                if key == synonym and index not in taken:
                    return index
        return None

    taken: set[int] = set()
    found: dict[str, int | None] = {}
    for role in (
        "date",
        "amount",
        "credit",
        "debit",
        "marker",
        "currency",
        "iban",
        "counterparty",
        "ref",
        "remittance",
    ):
        found[role] = find(role, taken)
        if found[role] is not None:
            taken.add(found[role])
    if found["date"] is None or (found["amount"] is None and found["credit"] is None):
        return None
    return Columns(**found)


def _columns_by_mapping(header: list[str], mappings: Iterable) -> Columns | None:
    keys = [_key(name) for name in header]
    for mapping in mappings:
        named = {
            role: getattr(mapping, f"{role}_column")
            for role in (
                "date",
                "amount",
                "credit",
                "debit",
                "currency",
                "counterparty",
                "iban",
                "remittance",
                "reference",
            )
        }
        wanted = {role: _key(name) for role, name in named.items() if name}
        if not all(key in keys for key in wanted.values()):
            continue
        index = {role: keys.index(key) for role, key in wanted.items()}
        return Columns(
            date=index["date"],
            amount=index.get("amount"),
            credit=index.get("credit"),
            debit=index.get("debit"),
            currency=index.get("currency"),
            counterparty=index.get("counterparty"),
            iban=index.get("iban"),
            remittance=index.get("remittance"),
            ref=index.get("reference"),
            date_format=mapping.date_format,
            decimal_comma=mapping.decimal_comma,
            default_currency=mapping.default_currency,
        )
    return None


def _date_format(values: list[tuple[int, str]]) -> str:
    for candidate in DATE_FORMATS:
        try:
            for _, value in values:
                dt.datetime.strptime(value.strip(), candidate)
        except ValueError:
            continue
        return candidate
    line, value = next(
        ((line, value) for line, value in values if not any(_parses(value, f) for f in DATE_FORMATS)),
        values[0],
    )
    raise StatementError(f"line {line}: cannot read the date {value!r}.")


def _parses(value: str, date_format: str) -> bool:
    try:
        dt.datetime.strptime(value.strip(), date_format)
    except ValueError:
        return False
    return True


def parse_csv(content: bytes, *, known_names: set[str], mappings: Iterable = ()) -> ParsedStatement:
    text = _decode(content)
    lines = text.splitlines()
    sample = "\n".join(lines[:50])
    delimiter = max(";,\t|", key=sample.count)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    columns, header_at = None, 0
    for position, row in enumerate(rows[:30]):
        columns = _columns_by_mapping(row, mappings) or _columns_by_names(row)
        if columns is not None:
            header_at = position
            break
    if columns is None:
        raise StatementError(
            "line 1: no header row with a date and an amount column was recognised; "
            "save a CSV mapping for this bank in the back office."
        )
    width = len(rows[header_at])
    data = [
        (number, row) for number, row in enumerate(rows[header_at + 1 :], start=header_at + 2) if any(row)
    ]
    if not data:
        raise StatementError(f"line {header_at + 2}: the CSV has a header but no bookings.")
    for number, row in data:
        if len(row) < width and len(row) <= max(
            value for value in columns.__dict__.values() if isinstance(value, int)
        ):
            raise StatementError(f"line {number}: {len(row)} columns, the header has {width}.")
    date_format = columns.date_format or _date_format([(number, row[columns.date]) for number, row in data])
    decimal_comma = columns.decimal_comma if columns.decimal_comma is not None else delimiter == ";"
    statement = ParsedStatement(format="csv")
    for number, row in data:
        statement.entries.append(_entry(number, row, columns, date_format, decimal_comma, known_names))
    return statement


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _entry(number, row, columns: Columns, date_format, decimal_comma, known_names) -> ParsedEntry:
    try:
        booked_on = dt.datetime.strptime(_cell(row, columns.date), date_format).date()
    except ValueError:
        raise StatementError(f"line {number}: cannot read the date {_cell(row, columns.date)!r}.") from None
    try:
        if columns.amount is not None and _cell(row, columns.amount):
            amount = amount_parse(_cell(row, columns.amount), decimal_comma=decimal_comma)
        else:
            credit, debit = _cell(row, columns.credit), _cell(row, columns.debit)
            if not credit and not debit:
                raise ValueError("no amount")
            amount = (
                amount_parse(credit, decimal_comma=decimal_comma)
                if credit
                else -abs(amount_parse(debit, decimal_comma=decimal_comma))
            )
    except ValueError:
        shown = _cell(row, columns.amount) or _cell(row, columns.credit) or _cell(row, columns.debit)
        raise StatementError(f"line {number}: cannot read the amount {shown!r}.") from None
    marker = _cell(row, columns.marker).upper()
    if marker in ("S", "D", "DR", "DEBIT", "SOLL", "LASTSCHRIFT"):
        amount = -abs(amount)
    elif marker in ("H", "C", "CR", "CREDIT", "HABEN", "GUTSCHRIFT"):
        amount = abs(amount)
    currency = (_cell(row, columns.currency) or columns.default_currency or "EUR").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise StatementError(f"line {number}: {currency!r} is not a currency code.")
    name = _cell(row, columns.counterparty)
    remittance = " ".join(_cell(row, columns.remittance).split())
    iban = iban_valid(_cell(row, columns.iban))
    if not name:  # only one text column: the name is inside it
        remittance, name, found_iban = details_split(remittance, known_names=known_names)
        iban = iban or found_iban
    return ParsedEntry(
        entry_ref=_cell(row, columns.ref) or f"line {number}",
        booked_on=booked_on,
        amount=amount,
        currency=currency,
        counterparty=name,
        counterparty_iban=iban,
        remittance=remittance,
    )
