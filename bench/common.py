"""What several benchmarks set up the same way: the bench user, a workspace that can issue invoices, the
environment of a django-q2 cluster started as a separate process on the bench's database, and the timed
runs of ledger pings and raw django-q2 no-ops through such clusters."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django_q.models import Task as QTask
from django_q.tasks import async_task

from core import services
from ledger import services as ledger_services
from ledger.models import Task

# Complete business details: issuing an invoice is refused without them (core.invoicing.details), and the
# invoice document bench renders them all (bank, late-payment text).
BUSINESS_DETAILS = {
    "legal_name": "Bench Studio AB",
    "street": "Storgatan 1",
    "postcode": "111 22",
    "city": "Stockholm",
    "country": "SE",
    "vat_id": "SE556677880801",
    "iban": "SE4550000000058398257466",
    "bic": "ESSESESS",
    "late_payment_text": "Interest on late payment: the reference rate plus 8 percentage points.",
}


def bench_user() -> Any:
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    return user


def bench_workspace(*, by: Any, prefix: str, **details: Any) -> None:
    """Configure the workspace for a benchmark: invoice prefix `prefix`, EUR, 30 days, business details
    (`details` overrides any of them)."""
    services.workspace_configure(
        by=by,
        **{
            "name": "Bench Studio",
            "operator_name": "Bench",
            "operator_email": "bench@example.com",
            "invoice_prefix": prefix,
            "default_currency": "EUR",
            "payment_terms_days": 30,
            **BUSINESS_DETAILS,
            **details,
        },
    )


def cluster_env(data_dir: str, *, workers: int, **extra: str) -> dict[str, str]:
    """The environment of a `qcluster` process on this run's database (`extra`: more AIOS_ settings)."""
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}:{db['PORT']}/{db['NAME']}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIOS_") and key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="aios.settings",
        DATABASE_URL=url,
        AIOS_DATA_DIR=data_dir,
        # django-q2 signs packages with the secret key: the cluster must share ours.
        AIOS_SECRET_KEY=settings.SECRET_KEY,
        AIOS_Q_WORKERS=str(workers),
        AIOS_LOG_FORMAT="plain",
        AIOS_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def wait_for(condition: Callable[[], bool], what: str, logs: Sequence[Path], *, seconds: float) -> None:
    """Poll `condition` until it holds; past `seconds`, fail with the tail of each cluster's log."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            tails = "\n".join(log.read_text(errors="replace")[-2000:] for log in logs)
            raise RuntimeError(f"timed out waiting for {what}:\n{tails}")
        time.sleep(0.02)


def ledger_pings(count: int, prefix: str, logs: Sequence[Path], *, seconds: float) -> float:
    """Seconds from submitting `count` `ledger.ping` tasks to the last one succeeded (running clusters)."""
    started = time.perf_counter()
    for index in range(count):
        ledger_services.task_submit(
            workflow="ledger.ping",
            input={"payload": {"n": index}},
            idempotency_key=f"{prefix}:{index}",
            requested_by="system:bench",
        )
    done = Task.objects.filter(idempotency_key__startswith=f"{prefix}:", status=Task.Status.SUCCEEDED)
    wait_for(lambda: done.count() >= count, f"{count} ledger pings", logs, seconds=seconds)
    return time.perf_counter() - started


def raw_noops(count: int, group: str, logs: Sequence[Path], *, seconds: float) -> float:
    """Seconds from enqueuing `count` raw django-q2 no-ops to q2 having recorded all their results."""
    started = time.perf_counter()
    for _ in range(count):
        async_task("bench.noop.noop", group=group)
    recorded = QTask.objects.filter(group=group)
    wait_for(lambda: recorded.count() >= count, f"{count} raw no-ops", logs, seconds=seconds)
    return time.perf_counter() - started


@contextmanager
def enqueuing_on_one_connection() -> Iterator[None]:
    """For a bench that enqueues many tasks from this process: django-q2 logs every enqueue at INFO
    (hundreds of lines around the figures), and its ORM broker closes an obsolete connection before every
    enqueue; with the embedded database's CONN_MAX_AGE=0 that is a reconnect per task, which would cap the
    run at this process's enqueue rate instead of measuring the workers. Keep one connection instead."""
    logging.getLogger("django-q").setLevel(logging.WARNING)
    max_age = connection.settings_dict["CONN_MAX_AGE"]
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = None
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"] = max_age
