"""CAMT.053 / .052 / .054 (ISO 20022 bank-to-customer statements, reports and notifications).

Parsed with defusedxml with DTDs forbidden: no entity expansion, no external entities or DTD fetches.
Namespaces differ per version (camt.053.001.02 … .13), so elements are found by local name. A batch
booking with several transaction details becomes one entry per transaction. Only booked entries count;
pending ones come again, booked, in a later statement.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

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


CONTAINERS = {"BkToCstmrStmt": "Stmt", "BkToCstmrAcctRpt": "Rpt", "BkToCstmrDbtCdtNtfctn": "Ntfctn"}


def parse_camt(content: bytes) -> ParsedStatement:
    """The statement, read as a stream: each entry is read when its element ends and then dropped, so a
    file of thousands of entries never holds its whole tree (which, alive while every entry was read,
    made the garbage collector walk it over and over)."""
    try:
        return _statement(iterparse(io.BytesIO(content), events=("start", "end"), forbid_dtd=True))
    except ParseError as error:
        line, column = getattr(error, "position", (0, 0))
        raise StatementError(f"XML line {line}, column {column}: {error}") from None
    except DefusedXmlException as error:
        raise StatementError(f"The XML declares a DTD or entities, which are refused: {error}") from None


def _statement(events: Iterator[tuple[str, Element]]) -> ParsedStatement:
    """The document's first element in the root is the message (a statement, report or notification);
    each of its reports' `Ntry` children is one booking (or several, for a batch)."""
    statement = ParsedStatement(format="camt053")
    root = body = report = None
    in_body = False
    kind = container = ""
    depth = reports = position = 0
    found: list[ParsedEntry] = []  # the current report's entries
    for event, element in events:
        if event == "start":
            depth += 1
            if depth == 1:
                root = element
            elif depth == 2 and body is None:
                body, in_body, kind = element, True, _local(element.tag)
                container = CONTAINERS.get(kind, "")
                if not container:
                    raise _not_a_statement(root)
            elif depth == 3 and in_body and _local(element.tag) == container:
                report, reports, position = element, reports + 1, 0
            continue
        if depth == 4 and report is not None and _local(element.tag) == "Ntry":
            position += 1
            where = f"{kind}/{container}[{reports}]/Ntry[{position}]"
            found += _entries(element, where)
            report.remove(element)
        elif depth == 3 and element is report:
            account = _child(report, "Acct")
            statement.account = (
                statement.account
                or iban_valid(_text(account, "Id", "IBAN"))
                or _text(account, "Id", "Othr", "Id")
            )
            statement.statement_ref = statement.statement_ref or _text(report, "Id")
            # The account's currency, for an amount without one; the account may come after entries.
            currency = _text(account, "Ccy").upper()
            statement.entries += [
                entry if entry.currency else replace(entry, currency=currency) for entry in found
            ]
            report, found = None, []
        elif depth == 2 and element is body:
            in_body = False
        depth -= 1
    if body is None:  # a root without children (the parser refuses a document without a root)
        raise _not_a_statement(root)
    if not reports:
        raise StatementError(f"<{kind}>: no <{container}>.")
    return statement


def _not_a_statement(root: Element) -> StatementError:
    return StatementError(
        f"<{_local(root.tag)}>: no BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn."
    )


def _entries(entry: Element, where: str) -> list[ParsedEntry]:
    """The booking (or, for a batch, each transaction) of one `Ntry`; the currency is "" when the amount
    has none (the account's is filled in by the caller)."""
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
                currency=part_currency,
                counterparty=name,
                counterparty_iban=iban,
                remittance=_remittance(details, entry),
            )
        )
    return found
