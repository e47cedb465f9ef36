"""Bank statement import: 10,000 entries (CAMT.053) matched against 5,000 open invoices.

Figures, all from this run: parsing alone (the baseline: what any import costs before matching),
parsing + matching (`import_statement --dry-run`), and the whole import (entries stored and one ledger
task proposing a payment per matched credit, in one transaction), with the share of storing and proposing
(the whole import less the dry run). Target: ≥ 2,000 entries/s for the whole import.
"""

import datetime as dt
import os
import random
import time
from decimal import Decimal

from django.db import connection, transaction

from bench.common import bench_user, bench_workspace
from connectors.statements import statement_import, statement_parse
from core import selectors
from core.models import BankEntry, Client, Invoice, InvoiceLine, PayerAccount
from ledger.models import Task

INVOICES = 5_000
CLIENTS = 1_000
ENTRIES = int(os.environ.get("BENCH_STATEMENT_ENTRIES", "10000"))
YEAR = 2026


def _iban(n: int) -> str:
    """A valid German IBAN for account n (check digits computed as ISO 13616 says)."""
    bban = f"37040044{n:010d}"
    digits = int(bban + "131400")  # D=13, E=14, then "00"
    return f"DE{98 - digits % 97:02d}{bban}"


def _open_invoices(user) -> list[tuple[int, str, int, Decimal]]:
    """5,000 issued invoices of 1,000 clients. Written in bulk (drafts, lines, then one update to issued),
    because issuing them one by one through the service would make the setup the slowest part."""
    with connection.cursor() as cursor:
        # `make bench` runs every benchmark on one database, and the receivables one leaves 100,000 invoices
        # behind: this one matches against its own 5,000 open invoices, numbered from 1.
        cursor.execute("TRUNCATE core_invoice RESTART IDENTITY CASCADE")
    clients = Client.objects.bulk_create(
        [Client(name=f"Bench Client {n} GmbH", email=f"c{n}@bench.example") for n in range(CLIENTS)]
    )
    PayerAccount.objects.bulk_create(
        [PayerAccount(client=client, iban=_iban(n), name=client.name) for n, client in enumerate(clients)]
    )
    rng = random.Random(7)  # noqa: S311 - reproducible data, not secrets
    amounts = [Decimal(rng.randrange(5_000, 900_000)) / 100 for _ in range(INVOICES)]
    drafts = Invoice.objects.bulk_create(
        [
            Invoice(client=clients[n % CLIENTS], currency="EUR", subtotal=amount, total=amount)
            for n, amount in enumerate(amounts)
        ]
    )
    InvoiceLine.objects.bulk_create(
        [
            InvoiceLine(invoice=invoice, description="Work", quantity=1, unit_price=amount, amount=amount)
            for invoice, amount in zip(drafts, amounts, strict=True)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_invoice SET status='approved', number_year=%s, number_sequence=id, "
            "number='BN-' || %s || '-' || lpad(id::text, 4, '0'), issue_date=%s, due_date=%s "
            "WHERE status='draft'",
            [YEAR, YEAR, dt.date(YEAR, 10, 1), dt.date(YEAR, 10, 31)],
        )
    rows = Invoice.objects.order_by("pk").values_list("pk", "number", "client_id", "total")
    return [(pk, number, client_id - clients[0].pk, total) for pk, number, client_id, total in rows]


SPELLINGS = (
    lambda number, seq: number,
    lambda number, seq: f"Invoice {number.replace('-', '')}",
    lambda number, seq: f"Rechnung {YEAR}-{seq}",
    lambda number, seq: f"inv {seq}",
)


def _statement(invoices) -> bytes:
    rng = random.Random(11)  # noqa: S311 - reproducible data, not secrets
    entries = []
    for n in range(ENTRIES):
        pk, number, client, total = invoices[n % len(invoices)]
        seq = int(number.rsplit("-", 1)[1])
        kind = n % 10
        name, iban, amount = f"Bench Client {client} GmbH", _iban(client), total
        if kind < 5:  # the number in some spelling, amount equal
            text = SPELLINGS[n % len(SPELLINGS)](number, seq)
        elif kind == 5:  # partial
            text, amount = f"{number} Teilzahlung", (total / 2).quantize(Decimal("0.01"))
        elif kind == 6:  # the known account, no reference
            text = "Thanks"
        elif kind == 7:  # overpaid
            text, amount = f"INV {number}", total + 10
        elif kind == 8:  # unknown payer, only the amount
            text, name, iban = "Payment", f"Someone {n}", _iban(50_000 + n)
        else:  # a refund from a supplier
            text, name, iban = "Gutschrift", "Supplier AG", _iban(90_000)
            amount = Decimal(rng.randrange(100, 9_999)) / 100
        sign = "CRDT" if n % 25 else "DBIT"
        day = dt.date(YEAR, 11, 1) + dt.timedelta(days=n % 28)
        entries.append(
            f'<Ntry><NtryRef>B{n:06d}</NtryRef><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{sign}</CdtDbtInd>'
            f"<Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt><NtryDtls><TxDtls><RltdPties><Dbtr><Nm>{name}</Nm>"
            f"</Dbtr><DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties><RmtInf><Ustrd>{text}</Ustrd>"
            f"</RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
        "<BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId></GrpHdr><Stmt><Id>BENCH-1</Id><Acct><Id><IBAN>"
        f"{_iban(99_999)}</IBAN></Id><Ccy>EUR</Ccy></Acct>{''.join(entries)}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def _rate(label: str, seconds: float, extra: str = "") -> None:
    print(f"{label:<44} {ENTRIES / seconds:9,.0f} entries/s  ({seconds:6.2f} s){extra}", flush=True)


def run():
    user = bench_user()
    bench_workspace(by=user, prefix="BN")
    with transaction.atomic():
        invoices = _open_invoices(user)
    content = _statement(invoices)
    print(
        f"{len(invoices):,} open invoices of {CLIENTS:,} clients; "
        f"statement of {ENTRIES:,} entries, {len(content):,} bytes"
    )

    started = time.perf_counter()
    statement_parse(content=content, filename="bench.xml")
    _rate("baseline: parse only", time.perf_counter() - started)

    started = time.perf_counter()
    index = selectors.payment_match_index()
    built = time.perf_counter() - started
    started = time.perf_counter()
    report = statement_import(content=content, filename="bench.xml", dry_run=True)  # builds its own index
    dry_run = time.perf_counter() - started
    _rate("parse + match (dry run)", dry_run, f"  index built in {built * 1000:.0f} ms")
    print("matches:", dict(sorted(report.kinds.items())), f"({len(index.by_full):,} invoices indexed)")

    started = time.perf_counter()
    report = statement_import(content=content, filename="bench.xml", by=user)
    whole = time.perf_counter() - started
    _rate("whole import (store + propose via ledger)", whole, "  target ≥ 2,000/s")
    _rate("  storing + proposing (whole − dry run)", whole - dry_run)
    print(
        f"stored {BankEntry.objects.count():,} entries, "
        f"{Task.objects.filter(workflow='payment.propose').count():,} payment tasks waiting to propose"
    )
