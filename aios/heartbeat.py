"""Heartbeats of supervised django-q2 clusters: services the supervisor calls, the probe task, health.

A probe is a tiny q2 task sent to one cluster's own queue (aios/brokers.py). When that cluster runs
it, the probe marks its row; a probe not run within the deadline, while none of the cluster's workers
is running a task, means the cluster is alive but runs nothing, and the supervisor restarts
it. See docs/adr/0011-redis-and-the-supervisor.md.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django_q.brokers import get_broker
from django_q.tasks import async_task

from aios.brokers import probe_queue
from aios.models import ClusterHeartbeat
from core import clock

# Extra time for the first probe of a freshly started cluster.
STARTUP_SECONDS = 60


# --- The probe task (runs in a q2 worker) ----------------------------------------------------
def probe_run(cluster_id: str, token: str) -> bool:
    """q2 entry point: mark probe `token` of `cluster_id` as run. False if it is no longer awaited."""
    return cluster_probe_record(cluster_id=cluster_id, token=token)


def cluster_probe_record(*, cluster_id: str, token: str) -> bool:
    now = clock.now()
    with transaction.atomic():
        row = ClusterHeartbeat.objects.select_for_update().filter(cluster_id=cluster_id).first()
        if row is None or row.probe_token != token:
            return False
        row.probe_seconds = (now - row.probe_sent_at).total_seconds() if row.probe_sent_at else None
        row.probe_token = ""
        row.last_probe_run_at = now
        row.state = ClusterHeartbeat.State.RUNNING
        row.save(update_fields=["probe_seconds", "probe_token", "last_probe_run_at", "state"])
    return True


# --- Services the supervisor calls -----------------------------------------------------------
def cluster_started(*, cluster_id: str, host: str, pid: int) -> ClusterHeartbeat:
    now = clock.now()
    row, created = ClusterHeartbeat.objects.get_or_create(
        cluster_id=cluster_id, defaults={"host": host, "pid": pid, "started_at": now, "reported_at": now}
    )
    if not created:
        row.host, row.pid, row.started_at, row.reported_at = host, pid, now, now
        row.probe_token, row.probe_sent_at = "", None
        # A cluster restarted after a stall or an exit stays marked so until it has run a probe: until
        # then nothing shows it runs work.
        if row.state not in (ClusterHeartbeat.State.STALLED, ClusterHeartbeat.State.EXITED):
            row.state = ClusterHeartbeat.State.STARTING
        row.save()
    return row


def cluster_probe_send(*, cluster_id: str) -> str:
    """Send a new probe to the cluster's own queue, unless one is still awaited; returns its token."""
    now = clock.now()
    row = ClusterHeartbeat.objects.get(cluster_id=cluster_id)
    if row.probe_token:
        ClusterHeartbeat.objects.filter(pk=row.pk).update(reported_at=now)
        return row.probe_token
    token = secrets.token_hex(8)
    ClusterHeartbeat.objects.filter(pk=row.pk).update(probe_token=token, probe_sent_at=now, reported_at=now)
    async_task(
        "aios.heartbeat.probe_run",
        cluster_id,
        token,
        broker=get_broker(list_key=probe_queue(cluster_id)),
        task_name=f"probe {cluster_id}",
        # Probes are frequent and their only result is the row they mark: keep q2's result log for work.
        save=False,
    )
    return token


@dataclass(frozen=True)
class ProbeVerdict:
    stalled: bool
    reason: str = ""


def cluster_probe_check(*, cluster_id: str, busy_at: datetime | None, deadline_seconds: int) -> ProbeVerdict:
    """Stalled when the awaited probe has been overdue for the deadline with no worker running a task.

    `busy_at` is when the supervisor last saw a worker of the cluster run a task (from the workers'
    process titles). A cluster whose workers run long tasks answers its probe late but is not stuck,
    so the deadline counts from the later of the probe's sending and the last busy moment: the probe
    waits in line behind the task that just ended. q2 kills a task at its timeout, so a busy cluster
    answers within the timeout plus the deadline, or turns out stuck.
    """
    now = clock.now()
    row = ClusterHeartbeat.objects.get(cluster_id=cluster_id)
    if not row.probe_token or row.probe_sent_at is None:
        return ProbeVerdict(stalled=False)
    since = max(row.probe_sent_at, busy_at) if busy_at else row.probe_sent_at
    waited = (now - since).total_seconds()
    # A cluster that has not run a probe since it started is still importing Django and forking workers.
    starting = row.last_probe_run_at is None or (row.started_at and row.last_probe_run_at < row.started_at)
    allowed = deadline_seconds + (STARTUP_SECONDS if starting else 0)
    if waited < allowed:
        return ProbeVerdict(stalled=False)
    return ProbeVerdict(
        stalled=True,
        reason=f"its probe was not run within {allowed} s (waited {waited:.0f} s, no worker busy)",
    )


def cluster_restarting(*, cluster_id: str, state: str, reason: str) -> None:
    now = clock.now()
    with transaction.atomic():
        row = ClusterHeartbeat.objects.select_for_update().get(cluster_id=cluster_id)
        row.state = state
        row.restarts += 1
        row.last_restart_at = now
        row.last_restart_reason = reason
        row.probe_token = ""
        row.reported_at = now
        row.save(
            update_fields=[
                "state",
                "restarts",
                "last_restart_at",
                "last_restart_reason",
                "probe_token",
                "reported_at",
            ]
        )


def cluster_stopped(*, cluster_id: str) -> None:
    ClusterHeartbeat.objects.filter(cluster_id=cluster_id).update(
        state=ClusterHeartbeat.State.STOPPED, pid=None, probe_token="", reported_at=clock.now()
    )


# --- Health (selectors) ----------------------------------------------------------------------
def clusters_health() -> dict:
    """What /healthz says about background work: ok, or degraded with one line per problem.

    A cluster is a problem when its supervisor says it is stalled or restarting after an exit, when a
    probe is overdue, or when its supervisor has not reported for three heartbeats (the supervisor
    itself is gone, so nobody would notice a stall). Stopped clusters are not problems.
    """
    now = clock.now()
    deadline = timedelta(seconds=settings.AIOS_HEARTBEAT_DEADLINE_SECONDS)
    silent = timedelta(seconds=3 * settings.AIOS_HEARTBEAT_SECONDS + 10)
    problems = []
    clusters = []
    for row in ClusterHeartbeat.objects.exclude(state=ClusterHeartbeat.State.STOPPED):
        clusters.append(
            {
                "cluster": row.cluster_id,
                "state": row.state,
                "restarts": row.restarts,
                "last_probe_run_at": row.last_probe_run_at.isoformat() if row.last_probe_run_at else None,
            }
        )
        if row.state in (ClusterHeartbeat.State.STALLED, ClusterHeartbeat.State.EXITED):
            problems.append(f"cluster {row.cluster_id}: {row.get_state_display().lower()}, no work run since")
        elif now - row.reported_at > silent:
            problems.append(
                f"cluster {row.cluster_id}: its supervisor has not reported since {row.reported_at:%H:%M:%S}"
            )
        elif row.probe_token and row.probe_sent_at and now - row.probe_sent_at > deadline:
            problems.append(
                f"cluster {row.cluster_id} has not run its probe for {(now - row.probe_sent_at).seconds} s"
            )
    return {"status": "degraded" if problems else "ok", "problems": problems, "clusters": clusters}
