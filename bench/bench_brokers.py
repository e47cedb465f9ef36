"""Brokers: the database broker versus Redis, and one versus two clusters on Redis, in the same run.

A redis-server is started on a loopback port for the run. Each configuration starts real `manage.py
qcluster` processes (two workers each) on the bench database, warms them up, then times N ledger
`ledger.ping` tasks from the first submit to the last `succeeded`, and N raw django-q2 no-ops (the
broker alone, without the ledger) until q2 has recorded all N results. The database broker with one
cluster is the baseline. On a machine with few cores a second cluster adds processes, not CPUs: the
figure shows what a second machine's cluster costs the shared database and queue, not what it adds.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django_q.models import OrmQ
from django_q.models import Task as QTask

from bench.common import cluster_env, enqueuing_on_one_connection, ledger_pings, raw_noops
from tests.redis_server import broker_in_this_process, redis_server_running

TASKS = 400
WORKERS = 2
WARM_UP = 20
WAIT_SECONDS = 120


def _measure(label: str, broker: str, clusters: int, count: int) -> tuple[float, float]:
    """(ledger tasks/s, raw q2 tasks/s) for `clusters` clusters on `broker` ('orm' or a redis URL)."""
    data_dir = tempfile.mkdtemp(prefix="aios-bench-brokers-")
    logs = [Path(data_dir) / f"qcluster-{index}.log" for index in range(clusters)]
    processes = []
    OrmQ.objects.all().delete()
    QTask.objects.all().delete()
    try:
        with broker_in_this_process(None if broker == "orm" else broker):
            for log in logs:
                with log.open("w") as out:
                    processes.append(
                        subprocess.Popen(
                            [sys.executable, "manage.py", "qcluster"],
                            cwd=settings.BASE_DIR,
                            env=cluster_env(data_dir, workers=WORKERS, AIOS_Q_BROKER=broker),
                            stdout=out,
                            stderr=subprocess.STDOUT,
                            start_new_session=True,
                        )
                    )
            tag = f"{label}:{time.time_ns()}"
            # Warm every cluster up (imports in the workers, first connections) before anything is timed.
            ledger_pings(WARM_UP * clusters, f"bench-warm-up:{tag}", logs, seconds=WAIT_SECONDS)
            raw_noops(WARM_UP * clusters, f"bench-warm-up:{tag}", logs, seconds=WAIT_SECONDS)
            QTask.objects.all().delete()
            ledger_seconds = ledger_pings(count, f"bench:{tag}", logs, seconds=WAIT_SECONDS)
            QTask.objects.all().delete()
            raw_seconds = raw_noops(count, f"bench-raw:{tag}", logs, seconds=WAIT_SECONDS)
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    return count / ledger_seconds, count / raw_seconds


def run() -> None:
    with enqueuing_on_one_connection(), redis_server_running() as redis_url:
        rows = [
            ("database broker, 1 cluster", *_measure("orm-1", "orm", 1, TASKS)),
            ("Redis broker, 1 cluster", *_measure("redis-1", redis_url, 1, TASKS)),
            ("Redis broker, 2 clusters", *_measure("redis-2", redis_url, 2, TASKS)),
        ]
    base_ledger, base_raw = rows[0][1], rows[0][2]
    print(
        f"{TASKS} tasks per run, {WORKERS} workers per cluster, {os.cpu_count()} CPUs "
        f"(load average {os.getloadavg()[0]:.1f}); baseline: the first row"
    )
    print(f"{'':28} {'ledger tasks/s':>15} {'vs base':>8} {'raw q2 tasks/s':>15} {'vs base':>8}")
    for label, ledger_rate, raw_rate in rows:
        print(
            f"{label:28} {ledger_rate:15.1f} {ledger_rate / base_ledger:8.2f} "
            f"{raw_rate:15.1f} {raw_rate / base_raw:8.2f}"
        )
    one, two = rows[1][1], rows[2][1]
    print(f"two clusters vs one on Redis (ledger): {two / one:.2f}×")
