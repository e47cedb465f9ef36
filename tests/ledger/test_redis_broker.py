"""Scale-out on Redis: two clusters in separate processes, as on two machines, against one PostgreSQL.

Queued work goes through a real redis-server (AIOS_Q_BROKER); the ledger's claims and q2's schedules
live in PostgreSQL. Every task runs once although each is handed to the queue three times, both
clusters take part, and a due schedule runs once although both clusters' schedulers look at it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest
import redis
from django.db import transaction
from django_q.models import Schedule
from django_q.models import Task as QTask

from aios.brokers import RedisBroker
from core import clock
from ledger import services
from ledger.models import Task, TaskEvent
from tests.ledger.cluster import QCluster, wait_for
from tests.redis_server import broker_in_this_process

PINGS = 60
EXTRA_ENQUEUES = 2
# django-q2's sentinel runs the scheduler about every 30 s; after this long each cluster has looked again.
SCHEDULER_CYCLE_SECONDS = 35


@pytest.mark.django_db(transaction=True)
def test_settings_choose_the_redis_broker(redis_url, settings):
    with broker_in_this_process(redis_url):
        from django_q.brokers import get_broker

        broker = get_broker()
        assert isinstance(broker, RedisBroker)
        assert broker.ping() is True
        broker.enqueue("package")
        assert redis.from_url(redis_url).llen(broker.list_key) == 1
        assert broker.dequeue() == [(None, b"package")]


@pytest.mark.django_db(transaction=True)
def test_two_clusters_on_redis_run_each_task_once_and_a_schedule_once_per_slot(tmp_path, redis_url):
    clusters = [
        QCluster("redis-a", tmp_path, workers=2, AIOS_Q_BROKER=redis_url),
        QCluster("redis-b", tmp_path, workers=2, AIOS_Q_BROKER=redis_url),
    ]
    # Hourly, due now: after its run the next slot is an hour away, so any second run is a double run.
    schedule = Schedule.objects.create(
        name="redis-once-per-slot",
        func="ledger.tasks.ledger_sweep",
        schedule_type=Schedule.HOURLY,
        next_run=clock.now() - dt.timedelta(minutes=1),
    )
    slot = schedule.next_run
    with broker_in_this_process(redis_url):
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
                        idempotency_key=f"redis-clusters:{index}",
                        requested_by="system:cluster-test",
                    )
                    for index in range(PINGS)
                ]
                for task in tasks:
                    for _ in range(EXTRA_ENQUEUES):
                        services.task_enqueue(task_id=task.pk)
            packages = PINGS * (1 + EXTRA_ENQUEUES)
            logs = lambda: "\n".join(cluster.log_tail(2000) for cluster in clusters)  # noqa: E731
            wait_for(
                lambda: QTask.objects.filter(group="ledger").count() == packages,
                seconds=90,
                what=f"both clusters to process every package:\n{logs()}",
            )
            assert redis.from_url(redis_url).llen("django_q:aios:q") == 0
            wait_for(
                lambda: QTask.objects.filter(group=schedule.name).exists(),
                seconds=SCHEDULER_CYCLE_SECONDS + 10,
                what=f"the schedule to run:\n{logs()}",
            )
            # Both schedulers have had another look at the (now not due) schedule.
            time.sleep(SCHEDULER_CYCLE_SECONDS)
            for cluster in clusters:
                cluster.worker_pids()
            workers = {cluster.name: set(cluster.seen_workers) for cluster in clusters}
        finally:
            for cluster in clusters:
                cluster.kill()

    for cluster in clusters:
        assert cluster.leftovers() == []
    results = Counter(QTask.objects.filter(group="ledger").values_list("result", flat=True))
    assert results == {"succeeded": PINGS, "not-claimable": packages - PINGS}
    assert Counter(Task.objects.values_list("status", "attempts")) == {(Task.Status.SUCCEEDED, 1): PINGS}
    claims = Counter(TaskEvent.objects.filter(kind=TaskEvent.Kind.CLAIMED).values_list("task_id", flat=True))
    assert claims == {task.pk: 1 for task in tasks}
    claimed_pids = {
        int(worker.rpartition(":")[2]) for worker in Task.objects.values_list("claimed_by", flat=True)
    }
    assert claimed_pids & workers["redis-a"], "cluster redis-a claimed nothing"
    assert claimed_pids & workers["redis-b"], "cluster redis-b claimed nothing"
    # The schedule ran once for its slot, and moved on to the next slot.
    assert QTask.objects.filter(group=schedule.name).count() == 1
    schedule.refresh_from_db()
    assert schedule.next_run == slot + dt.timedelta(hours=1)
