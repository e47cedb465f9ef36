"""CAMT.053 / .052 / .054 (ISO 20022 bank-to-customer statements, reports and notifications).

Parsed with defusedxml with DTDs forbidden: no entity expansion, no external entities or DTD fetches.
Namespaces differ per version (camt.053.001.02 … .13), so elements are found by local name. A batch
booking with several transaction details becomes one entry per transaction. Only booked entries count;
pending ones come again, booked, in a later statement.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from connectors.statements.entries import ParsedEntry, ParsedStatement, StatementError, iban_valid


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        for child in element:
            tag = child.tag
            if isinstance(tag, str) and (tag == name or tag.endswith("}" + name)):  # comments have no str tag
                element = child
                break
        else:
            return None
    return element


def _children(element: Element | None, name: str) -> list[Element]:
    return [] if element is None else [child for child in element if _local(child.tag) == name]


def _text(element: Element | None, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _date(element: Element | None) -> dt.date | None:
    value = _text(element, "Dt") or _text(element, "DtTm")[:10]
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _amount(element: Element | None, where: str) -> tuple[Decimal, str]:
    if element is None:
        raise StatementError(f"{where}: no <Amt>.")
    try:
        return Decimal((element.text or "").strip()).quantize(Decimal("0.01")), element.get("Ccy", "").upper()
    except InvalidOperation:
        raise StatementError(f"{where}/Amt: {element.text!r} is not an amount.") from None


def _party(details: Element | None, role: str) -> tuple[str, str]:
    """(name, IBAN) of the debtor or creditor of a transaction (ultimate party's name as a fallback)."""
    parties = _child(details, "RltdPties")
    party = _child(parties, role)
    name = _text(party, "Nm") or _text(party, "Pty", "Nm") or _text(parties, f"Ultmt{role}", "Nm")
    account = _child(parties, f"{role}Acct", "Id")
    iban = iban_valid(_text(account, "IBAN")) or _text(account, "Othr", "Id")
    return name, iban


def _remittance(details: Element | None, entry: Element) -> str:
    info = _child(details, "RmtInf")
    parts = [(element.text or "").strip() for element in _children(info, "Ustrd")]
    for structured in _children(info, "Strd"):
        parts.append(_text(structured, "CdtrRefInf", "Ref"))
        parts += [(element.text or "").strip() for element in _children(structured, "AddtlRmtInf")]
        parts += [_text(document, "Nb") for document in _children(structured, "RfrdDocInf")]
    parts = [part for part in parts if part]
    if not parts:
        parts = [_text(details, "AddtlTxInf") or _text(entry, "AddtlNtryInf")]
    return " ".join(" ".join(parts).split())


def parse_camt(content: bytes) -> ParsedStatement:
    try:
        root = fromstring(content, forbid_dtd=True)
    except ParseError as error:
        line, column = getattr(error, "position", (0, 0))
        raise StatementError(f"XML line {line}, column {column}: {error}") from None
    except DefusedXmlException as error:
        raise StatementError(f"The XML declares a DTD or entities, which are refused: {error}") from None
    body = next(iter(root), None)
    kind = _local(body.tag) if body is not None else ""
    container = {"BkToCstmrStmt": "Stmt", "BkToCstmrAcctRpt": "Rpt", "BkToCstmrDbtCdtNtfctn": "Ntfctn"}.get(
        kind
    )
    if container is None:
        raise StatementError(
            f"<{_local(root.tag)}>: no BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn."
        )
    reports = _children(body, container)
    if not reports:
        raise StatementError(f"<{kind}>: no <{container}>.")
    statement = ParsedStatement(format="camt053")
    for number, report in enumerate(reports, start=1):
        where = f"{kind}/{container}[{number}]"
        account = _child(report, "Acct")
        statement.account = (
            statement.account
            or iban_valid(_text(account, "Id", "IBAN"))
            or _text(account, "Id", "Othr", "Id")
        )
        statement.statement_ref = statement.statement_ref or _text(report, "Id")
        default_currency = _text(account, "Ccy").upper()
        for position, entry in enumerate(_children(report, "Ntry"), start=1):
            statement.entries += _entries(entry, f"{where}/Ntry[{position}]", default_currency)
    return statement


def _entries(entry: Element, where: str, default_currency: str) -> list[ParsedEntry]:
    status = _text(entry, "Sts") or _text(entry, "Sts", "Cd")
    if status and status.upper() != "BOOK":
        return []
    amount, currency = _amount(_child(entry, "Amt"), where)
    sign = _text(entry, "CdtDbtInd").upper()
    if sign not in ("CRDT", "DBIT"):
        raise StatementError(f"{where}/CdtDbtInd: {sign or 'missing'}, expected CRDT or DBIT.")
    if _text(entry, "RvslInd").lower() == "true":  # a reversal books the opposite way
        sign = "DBIT" if sign == "CRDT" else "CRDT"
    booked = _date(_child(entry, "BookgDt")) or _date(_child(entry, "ValDt"))
    if booked is None:
        raise StatementError(f"{where}: no <BookgDt> or <ValDt> date.")
    ref = _text(entry, "NtryRef") or _text(entry, "AcctSvcrRef")
    transactions = [
        details for block in _children(entry, "NtryDtls") for details in _children(block, "TxDtls")
    ] or [None]
    role = "Dbtr" if sign == "CRDT" else "Cdtr"
    split = len(transactions) > 1
    found = []
    for index, details in enumerate(transactions, start=1):
        part_amount, part_currency = amount, currency
        if split:
            part = _child(details, "AmtDtls", "TxAmt", "Amt")
            if part is None:
                part = _child(details, "Amt")
            part_amount, part_currency = _amount(part, f"{where}/NtryDtls/TxDtls[{index}]")
        name, iban = _party(details, role)
        references = _child(details, "Refs")
        own_ref = _text(references, "AcctSvcrRef") or _text(references, "EndToEndId")
        if own_ref.upper() == "NOTPROVIDED":
            own_ref = ""
        found.append(
            ParsedEntry(
                entry_ref=(f"{ref}/{index}" if split else ref) or own_ref,
                booked_on=booked,
                amount=part_amount if sign == "CRDT" else -part_amount,
                currency=part_currency or default_currency,
                counterparty=name,
                counterparty_iban=iban,
                remittance=_remittance(details, entry),
            )
        )
    return found
