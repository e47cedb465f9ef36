"""MT940 (SWIFT customer statement), read with the `mt-940` library.

The `:86:` details come in three shapes: German structured subfields (`166?00GUTSCHRIFT?20…?32name`, split
by the library),
SWIFT tags (`/REMI/…/NAME/…/IBAN/…`, as ING and Rabobank write), and free text with the payer's name and
IBAN somewhere in it. Lines of `:86:` are at most 65 characters; a full line was cut mid-word, so it is
joined to the next without a space.
"""

from __future__ import annotations

import re
from decimal import Decimal

import mt940

from connectors.statements.entries import (
    ParsedEntry,
    ParsedStatement,
    StatementError,
    details_split,
    iban_valid,
)

_TAGGED = re.compile(r"/(REMI|NAME|IBAN|BIC|EREF|CNTP|ORDP|BENM|ID|ADDR|TRCD|USTD|STRD|CSID|MARF|PURP|SVCL)/")


def _joined(details: str) -> str:
    lines = details.splitlines()
    text, previous_full = "", False
    for number, line in enumerate(lines):
        text = line if not text else text + (line if previous_full else " " + line)
        previous_full = len(line) + (4 if number == 0 else 0) >= 65  # the first line carried ":86:"
    return text.strip()


def _structured(values: dict) -> tuple[str, str, str] | None:
    """German `?NN` subfields, which the library has already split (20–29, 60–63 purpose; 32–33 name;
    31 IBAN); None when the details were not structured."""
    if "transaction_details" in values or not (values.get("purpose") or values.get("applicant_name")):
        return None
    remittance = " ".join(part for part in (values.get("purpose"), values.get("additional_purpose")) if part)
    name = values.get("applicant_name") or values.get("deviate_applicant") or values.get("recipient_name")
    iban = values.get("applicant_iban") or values.get("gvc_applicant_iban") or ""
    return " ".join(remittance.split()), (name or "").strip(), iban_valid(iban)


def _tagged(details: str) -> tuple[str, str, str] | None:
    flat = "".join(line.strip("\r") for line in details.splitlines())
    if not _TAGGED.search(flat):
        return None
    parts = _TAGGED.split(flat)
    tags: dict[str, str] = {}
    for tag, value in zip(parts[1::2], parts[2::2], strict=False):
        tags.setdefault(tag, value.strip())
    remittance = tags.get("REMI", "") or tags.get("USTD", "")
    remittance = re.sub(r"^(USTD|STRD)//", "", remittance).strip("/ ")
    name = tags.get("NAME", "")
    iban = tags.get("IBAN", "")
    for key in ("CNTP", "ORDP", "BENM"):  # /CNTP/iban/bic/name/city
        if key in tags and not name:
            pieces = [piece for piece in tags[key].split("/") if piece]
            iban = iban or next((piece for piece in pieces if iban_valid(piece)), "")
            name = next((piece for piece in pieces if not iban_valid(piece) and " " in piece), name)
    return remittance, name, iban_valid(iban)


def parse_mt940(content: bytes, *, known_names: set[str]) -> ParsedStatement:
    text = content.decode("utf-8", errors="replace") if b"\x00" not in content else ""
    if ":61:" not in text or ":20:" not in text:
        raise StatementError("This is not an MT940 statement: no :20: and :61: lines.")
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(":61:") and not re.match(r":61:\d{6}(\d{4})?R?[CD]R?[A-Z]?\d+(,\d{0,2})?", line):
            raise StatementError(f"line {number}: cannot read the :61: booking line {line[:60]!r}.")
    try:
        transactions = mt940.models.Transactions()
        transactions.parse(text)
    except Exception as error:  # noqa: BLE001 - the library raises many kinds on bad input
        raise StatementError(f"MT940: {error}") from None
    data = transactions.data
    statement = ParsedStatement(
        format="mt940",
        account=str(data.get("account_identification") or ""),
        statement_ref=str(data.get("transaction_reference") or ""),
    )
    for position, transaction in enumerate(transactions, start=1):
        values = transaction.data
        amount = values.get("amount")
        booked = values.get("entry_date") or values.get("date")
        if amount is None or booked is None:
            raise StatementError(f"transaction {position}: no amount or date in its :61: line.")
        details = values.get("transaction_details") or ""
        split = _structured(values) or _tagged(details)
        if split is None:
            split = details_split(_joined(details), known_names=known_names)
        remittance, name, iban = split
        ref = values.get("bank_reference") or values.get("customer_reference") or ""
        if ref.upper() == "NONREF":
            ref = ""
        statement.entries.append(
            ParsedEntry(
                entry_ref=ref or f"{statement.statement_ref}/{position}",
                booked_on=booked,
                amount=Decimal(amount.amount).quantize(Decimal("0.01")),
                currency=str(amount.currency or values.get("currency") or "").upper(),
                counterparty=name,
                counterparty_iban=iban,
                remittance=remittance,
            )
        )
    if not statement.entries:
        raise StatementError("The MT940 statement has no bookings (:61: lines).")
    return statement
