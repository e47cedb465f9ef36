"""One statement file in: detect the format, parse, match each credit, and (unless a dry run) store the
statement and its entries and propose a payment for each matched credit through the ledger — all in one
transaction, so a file is imported whole or not at all. A file that cannot be read is kept as an
artifact for review, and nothing else changes."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from connectors.statements.camt import parse_camt
from connectors.statements.entries import ParsedEntry, ParsedStatement, StatementError
from connectors.statements.ofx import parse_ofx
from connectors.statements.swift import parse_mt940
from connectors.statements.tabular import parse_csv
from core import selectors as core_selectors
from core import services as core_services
from core.matching import MATCHED, Credit, Match, MatchIndex, iban_compact, name_key
from core.models import BankCsvMapping, BankEntry
from ledger import services as ledger_services

logger = logging.getLogger(__name__)

PAYMENT_WORKFLOW = "payment.propose"
REQUESTED_BY = "connector:bank_statement"
MAX_BYTES = 20 * 1024 * 1024


def statement_format(content: bytes, filename: str = "") -> str:
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    suffix = Path(filename or "").suffix.lower()
    if b"OFXHEADER" in head or b"<OFX>" in head or suffix in (".ofx", ".qfx"):
        return "ofx"
    if head.startswith(b"<") or suffix == ".xml":
        return "camt053"
    if (
        b":20:" in head
        and (b":61:" in content.upper() or b":25:" in head)
        or suffix in (".sta", ".mt940", ".940")
    ):
        return "mt940"
    return "csv"


def statement_parse(
    *, content: bytes, filename: str = "", known_names: set[str] | None = None
) -> ParsedStatement:
    if not content.strip():
        raise StatementError("The file is empty.")
    if len(content) > MAX_BYTES:
        raise StatementError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB.")
    known = known_names or set()
    kind = statement_format(content, filename)
    if kind == "ofx":
        return parse_ofx(content, known_names=known)
    if kind == "camt053":
        return parse_camt(content)
    if kind == "mt940":
        return parse_mt940(content, known_names=known)
    return parse_csv(content, known_names=known, mappings=list(BankCsvMapping.objects.all()))


@dataclass
class Row:
    entry: ParsedEntry
    match: Match | None  # None for debits

    def as_json(self) -> dict[str, Any]:
        return {
            "entry_ref": self.entry.entry_ref,
            "booked_on": self.entry.booked_on.isoformat(),
            "amount": str(self.entry.amount),
            "currency": self.entry.currency,
            "counterparty": self.entry.counterparty,
            "remittance": self.entry.remittance,
            "match": {"invoices": self.match.numbers, "kind": self.match.kind} if self.match else None,
        }


@dataclass
class ImportReport:
    filename: str
    format: str
    rows: list[Row] = field(default_factory=list)
    created: bool = False  # False on a dry run and for a statement imported before
    statement_id: int | None = None
    new_entries: int = 0
    proposed: int = 0

    def credits_json(self) -> list[dict[str, Any]]:
        return [row.as_json() for row in self.rows if row.match is not None]

    @property
    def kinds(self) -> dict[str, int]:
        return dict(Counter(row.match.kind for row in self.rows if row.match is not None))


def statement_match(*, statement: ParsedStatement, index: MatchIndex) -> list[Row]:
    rows = []
    for entry in statement.entries:
        if entry.amount <= 0:
            rows.append(Row(entry, None))
            continue
        credit = Credit(
            amount=entry.amount,
            currency=entry.currency,
            counterparty=entry.counterparty,
            iban=entry.counterparty_iban,
            remittance=entry.remittance,
        )
        rows.append(Row(entry, index.match(credit)))
    return rows


def _fingerprints(account: str, rows: list[Row]) -> list[str]:
    """The same booking gets the same fingerprint in any overlapping statement of the account; identical
    bookings on one day are told apart by their order."""
    seen: Counter[str] = Counter()
    prints = []
    for row in rows:
        entry = row.entry
        base = "|".join(
            [
                iban_compact(account),
                entry.booked_on.isoformat(),
                str(entry.amount),
                entry.currency,
                iban_compact(entry.counterparty_iban),
                name_key(entry.counterparty),
                " ".join(entry.remittance.lower().split()),
            ]
        )
        seen[base] += 1
        prints.append(hashlib.sha256(f"{base}|{seen[base]}".encode()).hexdigest())
    return prints


def statement_import(*, content: bytes, filename: str, dry_run: bool = False, by=None) -> ImportReport:
    """Read, match and (unless `dry_run`) store one statement. Raises StatementError for a bad file after
    keeping its bytes as an artifact."""
    index = core_selectors.payment_match_index()
    try:
        statement = statement_parse(content=content, filename=filename, known_names=index.known_names())
    except StatementError:
        if not dry_run:
            _keep_rejected(content=content, filename=filename, by=by)
        raise
    report = ImportReport(filename=filename, format=statement.format)
    report.rows = statement_match(statement=statement, index=index)
    if dry_run:
        return report
    with transaction.atomic():
        _store(report, statement, content=content, filename=filename, by=by)
    return report


def _keep_rejected(*, content: bytes, filename: str, by) -> None:
    artifact, _ = core_services.artifact_store(
        by=by, content=content, filename=f"rejected-statement-{Path(filename).name or 'file'}"
    )
    logger.warning("bank statement %s rejected; kept as artifact %s", filename, artifact.pk)


def _store(report: ImportReport, statement: ParsedStatement, *, content: bytes, filename: str, by) -> None:
    prints = _fingerprints(statement.account, report.rows)
    data = [
        core_services.EntryData(
            fingerprint=fingerprint,
            entry_ref=row.entry.entry_ref,
            booked_on=row.entry.booked_on,
            amount=row.entry.amount,
            currency=row.entry.currency,
            counterparty=row.entry.counterparty,
            counterparty_iban=row.entry.counterparty_iban,
            remittance=row.entry.remittance,
            match_kind=row.match.kind if row.match else BankEntry.Match.DEBIT,
            match=row.match.as_dict() if row.match else {},
            # Its payment is proposed below, in the same transaction.
            status=BankEntry.Status.PROPOSED if row.match and row.match.kind in MATCHED else "",
        )
        for row, fingerprint in zip(report.rows, prints, strict=True)
    ]
    artifact, _ = core_services.artifact_store(
        by=by, content=content, filename=Path(filename).name or "statement"
    )
    stored, entries, created = core_services.bank_statement_store(
        sha256=hashlib.sha256(content).hexdigest(),
        filename=Path(filename).name,
        format=statement.format,
        account=statement.account,
        statement_ref=statement.statement_ref,
        entries=data,
        artifact=artifact,
        by=by,
    )
    report.created, report.statement_id, report.new_entries = created, stored.pk, len(entries)
    proposed = [entry for entry in entries if entry.match_kind in MATCHED]
    ledger_services.tasks_submit_many(
        workflow=PAYMENT_WORKFLOW,
        items=[(f"bank-entry:{entry.fingerprint}", payment_proposal(entry)) for entry in proposed],
        requested_by=REQUESTED_BY,
    )
    report.proposed = len(proposed)


def payment_proposal(entry: BankEntry) -> dict[str, Any]:
    """The input of the ledger task proposing the payment a matched credit stands for (it waits for the
    operator: money floor). The task is keyed by the entry, so proposing twice is a no-op."""
    match = entry.match
    return {
        "client_id": match["client_id"],
        "amount": str(entry.amount),
        "currency": entry.currency,
        "received_on": entry.booked_on.isoformat(),
        "method": "bank_transfer",
        "reference": entry.remittance[:300],
        "payer_name": entry.counterparty,
        "payer_iban": entry.counterparty_iban,
        "source": "bank_statement",
        "bank_entry_id": entry.pk,
        "match_kind": entry.match_kind,
        "allocations": [
            {"invoice_id": item["invoice_id"], "number": item["number"], "amount": item["amount"]}
            for item in match["allocations"]
        ],
        "credit_left": match["credit_left"],
    }


def bank_entry_propose(*, entry: BankEntry, numbers: list[str], by) -> Match:
    """The operator's choice for a credit that waited (ambiguous or unmatched): the invoices it pays, by
    number. Allocated like a match (oldest due first, the rest as credit) and proposed through the
    ledger, where it waits for approval like every payment."""
    if entry.amount <= 0:
        raise ValidationError("Only credits are payments.")
    if entry.status not in (BankEntry.Status.OPEN, BankEntry.Status.PROPOSED) or hasattr(entry, "payment"):
        raise ValidationError(f"This entry is already {entry.get_status_display().lower()}.")
    index = core_selectors.payment_match_index()
    wanted = [number.strip().upper() for number in numbers if number.strip()]
    by_number = {invoice.number: invoice for invoices in index.by_client.values() for invoice in invoices}
    unknown = [number for number in wanted if number not in by_number]
    if not wanted or unknown:
        raise ValidationError(
            f"Name open invoices by number; not open or unknown: {', '.join(unknown) or '—'}."
        )
    chosen = [by_number[number] for number in wanted]
    if len({invoice.client_id for invoice in chosen}) > 1:
        raise ValidationError("One payment settles invoices of one client only.")
    if any(invoice.currency != entry.currency for invoice in chosen):
        raise ValidationError(f"The entry is in {entry.currency}; choose invoices in {entry.currency}.")
    credit = Credit(amount=entry.amount, currency=entry.currency)
    match = index.settle(credit, chosen, reason="chosen by the operator")
    with transaction.atomic():
        BankEntry.objects.filter(pk=entry.pk).update(match_kind=match.kind, match=match.as_dict())
        entry.refresh_from_db()
        # A new key each time: the operator may choose again after rejecting an earlier proposal; a
        # second payment for the same entry is refused when committed.
        ledger_services.task_submit(
            workflow=PAYMENT_WORKFLOW,
            input=payment_proposal(entry),
            idempotency_key=f"bank-entry:{entry.fingerprint}:{uuid.uuid4()}",
            requested_by=by,
        )
        BankEntry.objects.filter(pk=entry.pk).update(status=BankEntry.Status.PROPOSED)
    return match
