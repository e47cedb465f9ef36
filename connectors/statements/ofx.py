"""OFX 1.x (SGML) and 2.x (XML) bank statements, read with `ofxtools` (which parses OFX without an XML
entity resolver)."""

from __future__ import annotations

import io
from decimal import Decimal

from ofxtools.Parser import OFXTree

from connectors.statements.entries import ParsedEntry, ParsedStatement, StatementError, details_split


def parse_ofx(content: bytes, *, known_names: set[str]) -> ParsedStatement:
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(content))
        ofx = tree.convert()
    except Exception as error:  # noqa: BLE001 - ofxtools raises many kinds on bad input
        raise StatementError(f"OFX: {error}") from None
    statements = list(getattr(ofx, "statements", []) or [])
    if not statements:
        raise StatementError("OFX: no bank or card statement (STMTRS / CCSTMTRS) in the file.")
    parsed = ParsedStatement(format="ofx")
    for number, statement in enumerate(statements, start=1):
        account = getattr(statement, "account", None)
        parsed.account = parsed.account or str(getattr(account, "acctid", "") or "")
        currency = str(getattr(statement, "curdef", "") or "").upper()
        for position, transaction in enumerate(statement.transactions, start=1):
            where = f"STMTRS[{number}]/STMTTRN[{position}]"
            if transaction.trnamt is None or transaction.dtposted is None:
                raise StatementError(f"{where}: no TRNAMT or DTPOSTED.")
            name = str(transaction.name or getattr(transaction.payee, "name", "") or "").strip()
            memo = " ".join(str(transaction.memo or "").split())
            iban = ""
            if not name:  # some banks put everything into MEMO
                memo, name, iban = details_split(memo, known_names=known_names)
            row_currency = getattr(transaction, "currency", None)
            parsed.entries.append(
                ParsedEntry(
                    entry_ref=str(transaction.fitid or transaction.refnum or f"{number}/{position}"),
                    booked_on=transaction.dtposted.date(),
                    amount=Decimal(transaction.trnamt).quantize(Decimal("0.01")),
                    currency=str(getattr(row_currency, "cursym", "") or currency).upper(),
                    counterparty=name,
                    counterparty_iban=iban,
                    remittance=memo,
                )
            )
    return parsed
