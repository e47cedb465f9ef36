"""The intake value stream end to end on the `rules` tier: 1,000 generated inquiry mails through import →
intake → estimate → proposal (waiting for approval), in this process, one mail after another.

Each mail is ingested from raw bytes (`connectors.services.mail_ingest`: parse, thread, store), then its
`intake.process` task is run by the conductor inline, in one process per core (as a django-q2 cluster
runs one worker per core; the mails are shared out round-robin): claim, the five steps with their events
and LLM call records, the estimator's memory recall with the local embedding model, the policy decision and
the approval request. Memory capture tasks queued by the imports are left queued: they are separate
work. Printed: mails per second, lead time (received → proposal waiting) p50/p95, and as the baseline
measured in the same run 200 mails through the same path in one process.
Target on 2 cores: at least 20 mails per second end to end.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import random
import statistics
import time
import unicodedata
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

MAILS = 1000
BASELINE = 200
TARGET_PER_SECOND = 20
SEED = 20261202

FIRST = ["Anna", "Jonas", "Priya", "Lena", "Oskar", "Chloe", "Tomás", "Astrid", "Helen", "Marco", "Yuki"]
LAST = ["Berg", "Nair", "Vogt", "Lind", "Martin", "Ruiz", "Holm", "Moore", "Rossi", "Tanaka", "Grant"]
TRADES = ["Bakery", "Ceramics", "Cycles", "Coffee", "Architects", "Dental", "Yoga", "Books", "Tea", "Studio"]
ASKS = [
    ("a new website of {n} pages, and help with the texts", ["website", "copywriting"]),
    ("a logo for our new business", ["logo"]),
    ("an online shop for our products, with product descriptions", ["ecommerce", "copywriting"]),
    ("a complete rebrand: logo, colours and typography", ["brand_identity"]),
    ("a landing page for our launch campaign", ["landing_page"]),
    ("{n} custom illustrations for our packaging", ["illustration"]),
]
BUDGETS = ["{a} EUR", "€{a}", "around {a} euros", "between {lo} and {a} EUR", "{k}k EUR"]
DEADLINES = ["before {d}", "by the end of March", "within {w} weeks", "in Q2", "mid-April"]


def say(text: str) -> None:
    print(text, flush=True)


def _mail(rng: random.Random, index: int) -> bytes:
    first, last, trade = rng.choice(FIRST), rng.choice(LAST), rng.choice(TRADES)
    company = f"{last} {trade}"
    domain = f"{last.lower()}{trade.lower()}{index}.example"
    ask, _ = rng.choice(ASKS)
    amount = rng.randrange(20, 120) * 100
    budget = rng.choice(BUDGETS).format(a=f"{amount:,}", lo=f"{amount // 2:,}", k=amount // 1000 or 1)
    deadline = rng.choice(DEADLINES).format(d="15 February 2027", w=rng.randrange(3, 10))
    message = EmailMessage()
    local = unicodedata.normalize("NFKD", first.lower()).encode("ascii", "ignore").decode()
    message["From"] = f"{first} {last} <{local}@{domain}>"
    message["To"] = "Mara Lindqvist <mara@northwind.studio>"
    message["Subject"] = f"Enquiry from {company}"
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(idstring=f"bench{index}", domain=domain)
    message.set_content(
        f"Hello Mara,\n\nI run {company} and we are looking for {ask.format(n=rng.randrange(3, 9))}.\n"
        f"Our budget is {budget} and we would like it ready {deadline}.\n\n"
        f"Best regards,\n{first} {last}\n{company}\n"
    )
    return message.as_bytes()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * share) - 1)]


def _workspace() -> None:
    from core import demo

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    demo.demo_studio_configure(by=user)


def _process(raws: list[bytes]) -> list[float]:
    """Import each mail and run its intake task inline; seconds per mail."""
    from connectors.services import mail_ingest
    from ledger import services
    from ledger.models import Task

    per_mail = []
    for raw in raws:
        begun = time.perf_counter()
        inbound = mail_ingest(raw=raw, path="file", source="bench")
        if inbound.message is None:
            raise RuntimeError(f"a generated mail was not imported ({inbound.status}): {inbound.reason}")
        task = Task.objects.get(workflow="intake.process", input__message_id=inbound.message.pk)
        services.task_execute(task_id=task.pk)
        per_mail.append(time.perf_counter() - begun)
    return per_mail


def _worker(raws: list[bytes], ready, go) -> tuple[float, float, list[float]]:
    """One process of the run, like one q2 worker: warms its own model (torch does not survive a fork),
    waits for the others, then works through its share. Returns (start, end, seconds per mail)."""
    from core.memory.embeddings import embed_texts

    logging.getLogger("django-q").setLevel(logging.WARNING)
    embed_texts(["warm up the local model once, as a running worker has"])
    ready.wait()
    go.wait()
    started = time.time()
    per_mail = _process(raws)
    finished = time.time()
    connection.close()
    return started, finished, per_mail


def run() -> None:
    from ledger import selectors
    from ledger.models import ApprovalRequest, Task

    # One INFO line per queued package would bury the figures.
    logging.getLogger("django-q").setLevel(logging.WARNING)
    _workspace()
    rng = random.Random(SEED)  # noqa: S311 - test data, not secrets
    workers = os.cpu_count() or 1

    # Baseline, measured first in its own processes so no model is loaded before the fork below.
    baseline = [_mail(rng, 100000 + index) for index in range(BASELINE)]
    mails = [_mail(rng, index) for index in range(MAILS)]
    connection.close()
    context = multiprocessing.get_context("fork")
    for label, count, batch in (
        ("baseline: 1 process", 1, baseline),
        (f"end to end: {workers} processes", workers, mails),
    ):
        manager = context.Manager()
        ready, go = manager.Barrier(count + 1), manager.Barrier(count + 1)
        with context.Pool(count) as pool:
            pending = pool.starmap_async(_worker, [(batch[i::count], ready, go) for i in range(count)])
            ready.wait()
            go.wait()
            results = pending.get()
        manager.shutdown()
        wall = max(end for _, end, _ in results) - min(start for start, _, _ in results)
        per_mail = [seconds for _, _, timings in results for seconds in timings]
        rate = len(batch) / wall
        target = ""
        if count == workers:
            target = f"  (target >= {TARGET_PER_SECOND}: {'ok' if rate >= TARGET_PER_SECOND else 'MISSED'})"
        say(
            f"{label:<28} {len(batch):>5} mails in {wall:6.1f} s  {rate:6.1f} mails/s{target}; per mail "
            f"p50 {statistics.median(per_mail) * 1000:.1f} ms, "
            f"p95 {_percentile(per_mail, 0.95) * 1000:.1f} ms"
        )
    waiting = ApprovalRequest.objects.filter(action__kind="proposal.send", status="pending").count()
    total = BASELINE + MAILS
    lead = selectors.intake_lead_times(limit=total)
    say(
        f"proposals waiting for approval: {waiting} of {total}; lead time received → waiting "
        f"p50 {lead['p50'] or 0:.3f} s, p95 {lead['p95'] or 0:.3f} s (over {lead['count']})"
    )
    routes: dict[str, int] = {}
    for output in Task.objects.filter(workflow="intake.process").values_list("output", flat=True):
        route = ((output or {}).get("steps", {}).get("route") or {}).get("route", "not run")
        routes[route] = routes.get(route, 0) + 1
    say("routes: " + ", ".join(f"{route} {count}" for route, count in sorted(routes.items())))
    connection.close()
