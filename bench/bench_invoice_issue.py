"""Issuing invoices: latency of one issue alone (baseline) versus four operators issuing at once.

The per-year counter row serialises concurrent issues; this shows what that costs and checks the
result stays gap-free.
"""

import statistics
import threading
import time

from django.db import connection

from bench.common import bench_user, bench_workspace
from core import services
from core.models import Invoice

PER_THREAD = 50
THREADS = 4


def _drafts(count, client, by):
    lines = [{"description": "Design", "quantity": "3", "unit_price": "650.00", "tax_rate": "25"}]
    return [services.invoice_create(client=client, by=by, lines=lines).pk for _ in range(count)]


def _issue(ids, by, timings):
    try:
        for invoice_id in ids:
            started = time.perf_counter()
            services.invoice_issue(invoice=Invoice.objects.get(pk=invoice_id), by=by)
            timings.append(time.perf_counter() - started)
    finally:
        connection.close()


def _report(label, timings, wall):
    ordered = sorted(timings)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"{label:<28} {len(timings):>4} issues  {len(timings) / wall:7.1f}/s  "
        f"p50 {statistics.median(ordered) * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms"
    )


def run():
    user = bench_user()
    bench_workspace(by=user, prefix="BN")
    client = services.client_create(
        by=user,
        name="Bench client",
        billing_street="Kungsgatan 5",
        billing_postcode="411 19",
        billing_city="Göteborg",
        country="SE",
    )

    baseline_ids = _drafts(PER_THREAD * THREADS, client, user)
    timings = []
    started = time.perf_counter()
    _issue(baseline_ids, user, timings)
    _report("baseline: 1 thread", timings, time.perf_counter() - started)

    concurrent_ids = _drafts(PER_THREAD * THREADS, client, user)
    timings = []
    threads = [
        threading.Thread(target=_issue, args=(concurrent_ids[i::THREADS], user, timings))
        for i in range(THREADS)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _report(f"concurrent: {THREADS} threads", timings, time.perf_counter() - started)

    sequences = sorted(Invoice.objects.exclude(number=None).values_list("number_sequence", flat=True))
    gap_free = sequences == list(range(1, len(sequences) + 1))
    print(f"numbers issued: {len(sequences)}, gap-free and unique: {gap_free}")
