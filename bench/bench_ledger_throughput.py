"""Ledger throughput: no-op tasks end to end through the ledger versus raw django-q2, in the same run.

One real `manage.py qcluster` with two workers runs on the bench database. The
baseline enqueues N raw `async_task` no-ops and times until django-q2 has recorded all N results; the
ledger run submits N `ledger.ping` tasks (submit, claim, step, events, succeeded) and times until all
N are succeeded. Both are timed from the first enqueue to the last completion. Target: the ledger
reaches at least half of raw django-q2's rate on 2 cores. Afterwards, with the cluster stopped, one
ledger task's cost is timed and its queries counted in this process, to show where the time goes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.models import OrmQ
from django_q.models import Task as QTask
from django_q.tasks import async_task

from bench.common import cluster_env, enqueuing_on_one_connection, ledger_pings, raw_noops
from ledger import services
from ledger.models import Task

TASKS = 500
WORKERS = 2
WARM_UP = 20
WAIT_SECONDS = 60
TARGET_RATIO = 0.5


def _start_cluster(data_dir: str, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        cluster = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=settings.BASE_DIR,
            env=cluster_env(data_dir, workers=WORKERS),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return cluster


def _reset_results() -> None:
    # django-q2's monitor locks every stored result row on each save (its save_limit pruning), so each
    # timed run starts from an empty result table: neither run pays for the other's rows.
    QTask.objects.all().delete()


def _profile_in_process(count: int = 50) -> None:
    """With the cluster stopped: what one ping costs in this process, in time and queries by kind."""
    prefix = f"bench-profile:{time.time_ns()}"

    def submit(suffix: str) -> Task:
        return services.task_submit(
            workflow="ledger.ping",
            input={},
            idempotency_key=f"{prefix}:{suffix}",
            requested_by="system:bench",
        )

    # The first execution in this process imports the agents and the gateway: count its queries only.
    with CaptureQueriesContext(connection) as submitted:
        first = submit("first")
    with CaptureQueriesContext(connection) as executed:
        outcome = services.task_execute(task_id=first.pk)
    started = time.perf_counter()
    for _ in range(count):
        async_task("bench.noop.noop", group="bench-profile")
    enqueue_ms = (time.perf_counter() - started) * 1000 / count
    started = time.perf_counter()
    tasks = [submit(str(index)) for index in range(count)]
    submit_ms = (time.perf_counter() - started) * 1000 / count
    started = time.perf_counter()
    for task in tasks:
        services.task_execute(task_id=task.pk)
    execute_ms = (time.perf_counter() - started) * 1000 / count
    OrmQ.objects.all().delete()
    kinds = Counter(_query_kind(query["sql"]) for query in executed.captured_queries)
    print(
        f"in-process, per task: async_task {enqueue_ms:.2f} ms; task_submit {submit_ms:.2f} ms "
        f"({len(submitted.captured_queries)} queries); task_execute {execute_ms:.2f} ms "
        f"({outcome}, {len(executed.captured_queries)} queries: "
        + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common())
        + ")"
    )


def _query_kind(sql: str) -> str:
    words = sql.split()
    verb = words[0].upper() if words else "?"
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', sql)
    lock = " FOR UPDATE" if "FOR UPDATE" in sql else ""
    return f"{verb} {table.group(1) if table else ''}{lock}".strip()


def run() -> None:
    with enqueuing_on_one_connection():
        _compare(TASKS)
        _profile_in_process()


def _compare(count: int) -> None:
    data_dir = tempfile.mkdtemp(prefix="aios-bench-")
    log = Path(data_dir) / "qcluster.log"
    OrmQ.objects.all().delete()
    _reset_results()
    cluster = _start_cluster(data_dir, log)
    try:
        # Warm both paths up (imports in the workers, first connections) before anything is timed.
        raw_noops(WARM_UP, "bench-warm-up", [log], seconds=WAIT_SECONDS)
        ledger_pings(WARM_UP, f"bench-warm-up:{time.time_ns()}", [log], seconds=WAIT_SECONDS)
        _reset_results()
        raw_seconds = raw_noops(count, "bench-raw", [log], seconds=WAIT_SECONDS)
        _reset_results()
        ledger_seconds = ledger_pings(count, f"bench:{time.time_ns()}", [log], seconds=WAIT_SECONDS)
    finally:
        # Nothing to finish cleanly: every timed task is done. Kill the whole process group at once.
        os.killpg(cluster.pid, signal.SIGKILL)
        cluster.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    raw_rate = count / raw_seconds
    ledger_rate = count / ledger_seconds
    ratio = ledger_rate / raw_rate
    print(f"{count} no-op tasks each, {WORKERS} workers, {os.cpu_count()} CPUs")
    print(f"raw django-q2 async_task  {raw_rate:7.1f} tasks/s  ({raw_seconds:.2f} s)")
    print(f"ledger task_submit        {ledger_rate:7.1f} tasks/s  ({ledger_seconds:.2f} s)")
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"ratio ledger/raw          {ratio:7.2f}  ({verdict} the target of {TARGET_RATIO})")
