"""The daily receivables sweep over 100,000 invoices: mark the past-due ones overdue (with history) and
draft the reminders due today. Target: ≤ 5 s, with a query count that does not grow with the invoices.

Invoices are due 1–90 days ago and the sweep ran every day before (as in a running workspace): those
due before yesterday are overdue already and had the levels whose day has passed, so today marks the
invoices due yesterday and drafts for those exactly 3, 14 or 30 days overdue. The catch-up line marks all
100,000 at once (the first sweep after importing open invoices). The baseline, measured in the same
run: the same sweep over 1,000 invoices (the queries besides drafting must be as many), and marking
overdue one invoice at a time through the service, extrapolated to 100,000.
"""

import datetime as dt
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.common import bench_user, bench_workspace
from core import clock, services
from core.models import Client, Invoice, InvoiceReminder
from ledger import reminders

SIZES = (1_000, 100_000)
PER_INVOICE_SAMPLE = 300
LEVELS = (("friendly", 3), ("firm", 14), ("final", 30))


def _seed(count: int, *, start: int, client: Client, today: dt.date, steady: bool = True) -> None:
    """`steady`: the sweep ran every day before, so only the invoices due yesterday are still `sent`;
    otherwise every invoice is `sent` (the first sweep after importing a ledger of open invoices)."""
    invoices = []
    for index in range(count):
        due = today - dt.timedelta(days=1 + index % 90)
        sequence = start + index
        invoices.append(
            Invoice(
                client=client,
                currency="EUR",
                status=Invoice.Status.OVERDUE
                if steady and due < today - dt.timedelta(days=1)
                else Invoice.Status.SENT,
                overdue_since=due + dt.timedelta(days=1)
                if steady and due < today - dt.timedelta(days=1)
                else None,
                subtotal=Decimal("1000.00"),
                tax_total=Decimal("250.00"),
                total=Decimal("1250.00"),
                number=f"BR-{due.year}-{sequence:07d}",
                number_year=due.year,
                number_sequence=sequence,
                issue_date=due - dt.timedelta(days=30),
                due_date=due,
                sent_at=clock.now(),
            )
        )
    created = Invoice.objects.bulk_create(invoices, batch_size=5000)
    had = []
    for invoice in created:
        days = (today - invoice.due_date).days
        for name, after in LEVELS:
            if days > after:  # the levels whose day has passed were drafted on their day
                had.append(
                    InvoiceReminder(
                        invoice=invoice,
                        level=name,
                        days_overdue=after,
                        status=InvoiceReminder.Status.SENT,
                        created_at=dt.datetime.combine(
                            invoice.due_date + dt.timedelta(days=after), dt.time(10), tzinfo=dt.UTC
                        ),
                    )
                )
    InvoiceReminder.objects.bulk_create(had, batch_size=10000)


def _clear() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE core_invoicereminder, core_invoice, core_historicalinvoice CASCADE")


def _sweep(now: dt.datetime) -> tuple[float, int, dict]:
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        outcome = reminders.receivables_sweep(now=now)
        elapsed = time.perf_counter() - started
    return elapsed, len(queries), outcome


def run():
    settings.TIME_ZONE = "Europe/Stockholm"
    user = bench_user()
    bench_workspace(by=user, prefix="BR")
    client = services.client_create(by=user, name="Bench client", email="ap@bench.example")
    now = dt.datetime(2026, 11, 2, 10, tzinfo=ZoneInfo("Europe/Stockholm"))  # a Monday, in working hours
    today = now.date()
    for size in SIZES:
        _clear()
        _seed(size, start=1, client=client, today=today)
        with clock.frozen(now):
            elapsed, queries, outcome = _sweep(now)
            tasks = outcome["tasks"]
            besides = queries - tasks * _per_task_queries(queries, tasks)
        print(
            f"sweep over {size:>7,} invoices: {elapsed:6.2f} s, {queries:5d} queries — "
            f"{outcome['overdue']:,} marked overdue, {outcome['reminders']:,} reminders drafted in {tasks} "
            f"tasks; {besides} queries besides the drafting tasks"
        )

    # The catch-up: every one of 100,000 invoices marked overdue at once (the first sweep after an import).
    _clear()
    _seed(SIZES[-1], start=1, client=client, today=today, steady=False)
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        marked = services.invoices_overdue_mark(today=today)
        elapsed = time.perf_counter() - started
    print(f"catch-up: {marked:,} invoices marked overdue at once: {elapsed:6.2f} s, {len(queries)} queries")

    # Baseline: the service, one invoice at a time (what a loop over the invoices would do).
    _clear()
    _seed(PER_INVOICE_SAMPLE, start=1, client=client, today=today, steady=False)
    pending = list(Invoice.objects.filter(status=Invoice.Status.SENT, due_date__lt=today))
    started = time.perf_counter()
    with clock.frozen(now):
        for invoice in pending:
            services.invoice_mark_overdue(invoice=invoice, by=None)
    per_invoice = (time.perf_counter() - started) / max(1, len(pending))
    print(
        f"baseline: marking overdue one by one through the service: {per_invoice * 1000:.2f} ms an invoice, "
        f"{per_invoice * 100_000:.1f} s for 100,000 (extrapolated from {len(pending)})"
    )
    _clear()


def _per_task_queries(queries: int, tasks: int) -> int:
    """The queries one drafting task costs (submit, its event, the reminders' task ids), measured once."""
    if not tasks:
        return 0
    with CaptureQueriesContext(connection) as captured:
        from ledger.services import task_submit

        task_submit(
            workflow="invoice.remind",
            input={"client_id": 1, "reminders": [{"invoice_id": 1, "level": "friendly", "days_overdue": 3}]},
            idempotency_key=f"bench-probe-{time.perf_counter_ns()}",
            requested_by="schedule:bench",
        )
    return len(captured)
