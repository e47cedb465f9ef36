"""Concurrency across real processes: two q2 clusters on one queue, and racing submits.

Threads in one process share a lot (the GIL, one settings object); these tests use separate
processes with their own database connections, as production does.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from django.conf import settings
from django.db import transaction
from django_q.models import OrmQ
from django_q.models import Task as QTask

from ledger import services
from ledger.models import Task, TaskEvent
from tests.ledger.cluster import QCluster, subprocess_env, wait_for

PINGS = 60
# Besides the one enqueued by task_submit, each task is handed to django-q2 this many more times.
EXTRA_ENQUEUES = 2


@pytest.mark.django_db(transaction=True)
def test_two_clusters_never_run_a_task_twice(tmp_path):
    clusters = [QCluster("a", tmp_path, workers=2), QCluster("b", tmp_path, workers=2)]
    try:
        for cluster in clusters:
            cluster.launch()
        for cluster in clusters:
            cluster.wait_ready(seconds=90)
        with transaction.atomic():
            tasks = [
                services.task_submit(
                    workflow="ledger.ping",
                    input={"payload": {"n": index}},
                    idempotency_key=f"two-clusters:{index}",
                    requested_by="system:cluster-test",
                )
                for index in range(PINGS)
            ]
            # Adjacent packages for the same task: both pushers race for them at the same moment.
            for task in tasks:
                for _ in range(EXTRA_ENQUEUES):
                    services.task_enqueue(task_id=task.pk)
        packages = PINGS * (1 + EXTRA_ENQUEUES)
        wait_for(
            lambda: QTask.objects.filter(group="ledger").count() == packages and not OrmQ.objects.exists(),
            seconds=60,
            what="both clusters to process every package:\n"
            + "\n".join(cluster.log_tail(2000) for cluster in clusters),
        )
        for cluster in clusters:
            cluster.worker_pids()
        workers = {cluster.name: set(cluster.seen_workers) for cluster in clusters}
    finally:
        for cluster in clusters:
            cluster.kill()

    for cluster in clusters:
        assert cluster.leftovers() == []
    # Every package ran; exactly one per task claimed it, every other found nothing to claim.
    results = Counter(QTask.objects.filter(group="ledger").values_list("result", flat=True))
    assert results == {"succeeded": PINGS, "not-claimable": packages - PINGS}
    assert QTask.objects.filter(group="ledger", success=False).count() == 0
    # One attempt and one claim per task.
    assert Counter(Task.objects.values_list("status", "attempts")) == {(Task.Status.SUCCEEDED, 1): PINGS}
    claims = Counter(TaskEvent.objects.filter(kind=TaskEvent.Kind.CLAIMED).values_list("task_id", flat=True))
    assert claims == {task.pk: 1 for task in tasks}
    # Both clusters did work, and claimed_by names the worker process that ran the attempt.
    claimed_pids = {
        int(worker.rpartition(":")[2]) for worker in Task.objects.values_list("claimed_by", flat=True)
    }
    assert claimed_pids <= workers["a"] | workers["b"]
    assert claimed_pids & workers["a"], "cluster a claimed nothing"
    assert claimed_pids & workers["b"], "cluster b claimed nothing"


SUBMITTER = """
import sys, django
django.setup()
from django.db import connection
from ledger import services
connection.ensure_connection()
print("ready", flush=True)
for line in sys.stdin:
    task = services.task_submit(
        workflow="ledger.ping", input={}, idempotency_key=line.strip(), requested_by="system:race"
    )
    print(task.pk, flush=True)
"""

SUBMITTERS = 4
ROUNDS = 25


@pytest.mark.django_db(transaction=True)
def test_racing_submits_from_separate_processes_create_one_task(tmp_path):
    env = subprocess_env(tmp_path)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SUBMITTER],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(SUBMITTERS)
    ]
    answers: dict[str, list[str]] = {}
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready"
        for round_ in range(ROUNDS):
            key = f"race:{round_}"
            # Every process is connected and waiting on its stdin: one line each releases them together.
            for process in processes:
                process.stdin.write(key + "\n")
                process.stdin.flush()
            answers[key] = [process.stdout.readline().strip() for process in processes]
    finally:
        for process in processes:
            process.stdin.close()
        for process in processes:
            process.wait(timeout=30)

    assert [process.returncode for process in processes] == [0] * SUBMITTERS
    tasks = dict(Task.objects.values_list("idempotency_key", "pk"))
    assert len(tasks) == ROUNDS
    for key, task_ids in answers.items():
        assert task_ids == [str(tasks[key])] * SUBMITTERS, key
    created = Counter(
        TaskEvent.objects.filter(kind=TaskEvent.Kind.CREATED).values_list("task__idempotency_key", flat=True)
    )
    assert created == dict.fromkeys(tasks, 1)
    # Only the process that created a task queued it.
    assert OrmQ.objects.count() == ROUNDS
