"""The supervisor keeps work moving: `manage.py supervise` (the cluster half of `up`) as a real process.

Each test starts `supervise` in its own session, pointed at the test database, with a fast heartbeat,
and does to its clusters what happens in production: a whole cluster killed, a worker killed while
idle (django-q2 issue #23: the cluster lives on and runs nothing), a cluster frozen, and SIGTERM while a
worker is busy. After each, work runs again, or nothing is left behind.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from django.conf import settings
from django_q.tasks import async_task

from aios.models import ClusterHeartbeat
from ledger import services
from ledger.models import Task
from tests.ledger.cluster import subprocess_env, wait_for

HEARTBEAT_SECONDS = 1
DEADLINE_SECONDS = 6
STOP_GRACE_SECONDS = 10
_WORKER_READY = re.compile(r"ready for work at (\d+)")


class Supervise:
    def __init__(self, tmp_path: Path, *, name: str, clusters: int = 1, workers: int = 1, **env: str) -> None:
        self.name = name
        self.log_path = tmp_path / f"supervise-{name}.log"
        self.env = subprocess_env(
            tmp_path,
            AIOS_Q_WORKERS=str(workers),
            AIOS_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
            AIOS_HEARTBEAT_DEADLINE_SECONDS=str(DEADLINE_SECONDS),
            AIOS_STOP_GRACE_SECONDS=str(STOP_GRACE_SECONDS),
            **env,
        )
        self.clusters = clusters
        self.process: subprocess.Popen | None = None

    def start(self) -> Supervise:
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "supervise",
                    "--name",
                    self.name,
                    "--clusters",
                    str(self.clusters),
                ],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(
            lambda: (
                self.alive()
                and ClusterHeartbeat.objects.filter(
                    cluster_id__startswith=f"{self.name}:", state=ClusterHeartbeat.State.RUNNING
                ).count()
                == self.clusters
            ),
            seconds=120,
            what=f"every cluster to run its first probe:\n{self.log()}",
        )
        return self

    def alive(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, f"supervise exited:\n{self.log()}"
        return True

    def row(self, index: int = 1) -> ClusterHeartbeat:
        return ClusterHeartbeat.objects.get(cluster_id=f"{self.name}:{index}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def family(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def worker_pids(self, cluster_pid: int) -> list[int]:
        """Live q2 worker processes of the cluster whose qcluster process is `cluster_pid`."""
        logged = {int(pid) for pid in _WORKER_READY.findall(self.log_path.read_text(errors="replace"))}
        family = {p.pid for p in psutil.Process(cluster_pid).children(recursive=True)}
        return sorted(family & logged)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        # What the supervisor started lives in sessions of its own: kill those too.
        for proc in psutil.process_iter(attrs=("pid", "environ")):
            try:
                if (proc.info["environ"] or {}).get("AIOS_Q_CLUSTER_ID", "").startswith(f"{self.name}:"):
                    os.killpg(os.getsid(proc.pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError, psutil.Error):
                continue


def _ping(key: str) -> Task:
    return services.task_submit(
        workflow="ledger.ping", input={}, idempotency_key=key, requested_by="system:supervisor-test"
    )


def _succeeds(task: Task, supervise: Supervise, seconds: float = 60) -> None:
    wait_for(
        lambda: Task.objects.get(pk=task.pk).status == Task.Status.SUCCEEDED,
        seconds=seconds,
        what=f"task {task.pk} to succeed:\n{supervise.log()}",
    )


@pytest.mark.django_db(transaction=True)
def test_a_cluster_that_dies_is_restarted_and_work_runs(tmp_path):
    supervise = Supervise(tmp_path, name="dies").start()
    try:
        first = supervise.row()
        os.killpg(first.pid, signal.SIGKILL)  # the whole cluster: qcluster, sentinel, workers
        wait_for(
            lambda: supervise.row().restarts == 1 and supervise.row().state == ClusterHeartbeat.State.RUNNING,
            seconds=90,
            what=f"the cluster to be restarted:\n{supervise.log()}",
        )
        row = supervise.row()
        assert row.pid != first.pid
        assert row.last_restart_reason.startswith("exited with code -9")
        assert "worker cluster dies:1 exited with code -9" in supervise.log()
        _succeeds(_ping("supervisor:after-exit"), supervise)
    finally:
        supervise.stop()


def _is_idle(pid: int) -> bool:
    """About a frozen q2 worker: it waits for its next package, holding the task queue's read lock.

    q2 titles a worker `… idle` right before it calls the queue's get() and `… processing …` while it
    runs a task.
    """
    return " ".join(psutil.Process(pid).cmdline()).rstrip().endswith(" idle")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_idle_stalls_its_cluster_and_the_supervisor_restarts_it(tmp_path):
    supervise = Supervise(tmp_path, name="idle-kill").start()
    try:
        cluster_pid = supervise.row().pid
        [worker] = wait_for(lambda: supervise.worker_pids(cluster_pid), seconds=30, what="the worker")
        # Freeze it first and only kill it while it waits for a package (not while it runs a probe).
        for _ in range(200):
            os.kill(worker, signal.SIGSTOP)
            wait_for(
                lambda: psutil.Process(worker).status() == psutil.STATUS_STOPPED, seconds=5, interval=0.001
            )
            if _is_idle(worker):
                os.kill(worker, signal.SIGKILL)
                break
            os.kill(worker, signal.SIGCONT)
            time.sleep(0.05)
        else:
            pytest.fail("the worker was never seen idle")
        # q2's guard starts a new worker, but the cluster runs nothing: the dead one took the lock along.
        wait_for(
            lambda: supervise.row().restarts == 1,
            seconds=DEADLINE_SECONDS + 30,
            what=f"the stall to be noticed:\n{supervise.log()}",
        )
        row = supervise.row()
        assert row.last_restart_reason.startswith(f"its probe was not run within {DEADLINE_SECONDS} s")
        assert "worker cluster idle-kill:1 is stalled" in supervise.log()
        # The stalled cluster is killed (it cannot stop itself) and a new one started.
        wait_for(lambda: supervise.row().pid != cluster_pid, seconds=30, what="a new cluster")
        assert (
            not psutil.pid_exists(cluster_pid) or psutil.Process(cluster_pid).status() == psutil.STATUS_ZOMBIE
        )
        _succeeds(_ping("supervisor:after-idle-kill"), supervise)
        assert supervise.row().state == ClusterHeartbeat.State.RUNNING
    finally:
        supervise.stop()


@pytest.mark.django_db(transaction=True)
def test_a_frozen_cluster_is_found_by_its_heartbeat_and_restarted_while_a_busy_one_is_left_alone(
    tmp_path, client, settings
):
    # /healthz in this process judges by the same heartbeat settings as the supervisor.
    settings.AIOS_HEARTBEAT_SECONDS = HEARTBEAT_SECONDS
    settings.AIOS_HEARTBEAT_DEADLINE_SECONDS = DEADLINE_SECONDS
    supervise = Supervise(tmp_path, name="frozen", clusters=2).start()
    try:
        frozen, busy = supervise.row(1), supervise.row(2)
        # Cluster 2 runs one task longer than the deadline; its probe waits behind it and that is fine.
        async_task("time.sleep", DEADLINE_SECONDS + 6, broker=_probe_broker("frozen:2"))
        wait_for(
            lambda: any(
                " processing " in " ".join(p.cmdline())
                for p in psutil.Process(busy.pid).children(recursive=True)
            ),
            seconds=30,
            what="cluster 2 to be busy",
        )
        wait_for(
            lambda: (supervise.row(2).probe_seconds or 0) > DEADLINE_SECONDS,
            seconds=DEADLINE_SECONDS + 40,
            interval=0.1,
            what=f"cluster 2 to run the probe that waited behind its long task:\n{supervise.log()}",
        )
        assert supervise.row(2).restarts == 0
        assert supervise.row(2).pid == busy.pid

        # Cluster 1: every process alive, nothing runs.
        session = [p for p in psutil.process_iter() if _sid(p.pid) == frozen.pid]
        for process in session:
            process.send_signal(signal.SIGSTOP)
        wait_for(
            lambda: _degraded_by(client.get("/healthz").json(), "frozen:1"),
            seconds=DEADLINE_SECONDS + 20,
            interval=0.1,
            what="/healthz to report the stall",
        )
        wait_for(
            lambda: (
                supervise.row(1).restarts == 1 and supervise.row(1).state == ClusterHeartbeat.State.RUNNING
            ),
            seconds=DEADLINE_SECONDS + 90,
            what=f"the frozen cluster to be restarted:\n{supervise.log()}",
        )
        assert supervise.row(1).last_restart_reason.startswith(
            f"its probe was not run within {DEADLINE_SECONDS} s"
        )
        assert all(
            not process.is_running() or process.status() == psutil.STATUS_ZOMBIE for process in session
        )
        assert supervise.row(2).restarts == 0
        wait_for(
            lambda: client.get("/healthz").json()["status"] == "ok", seconds=30, what="/healthz ok again"
        )
        _succeeds(_ping("supervisor:after-freeze"), supervise)
    finally:
        supervise.stop()


def _degraded_by(health: dict, cluster_id: str) -> bool:
    return health["status"] == "degraded" and any(cluster_id in problem for problem in health["problems"])


def _sid(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except (ProcessLookupError, PermissionError):
        return None


def _still_running_in(sessions: set[int], *, seconds: float) -> list[int]:
    """The pids still running (not zombies) in one of `sessions`, once none is or after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        running = []
        for process in psutil.process_iter():
            try:
                if _sid(process.pid) in sessions and process.status() != psutil.STATUS_ZOMBIE:
                    running.append(process.pid)
            except psutil.NoSuchProcess:
                continue
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.2)


def _probe_broker(cluster_id: str):
    from django_q.brokers import get_broker

    from aios.brokers import probe_queue

    return get_broker(list_key=probe_queue(cluster_id))


@pytest.mark.django_db(transaction=True)
def test_sigterm_while_workers_are_busy_leaves_no_process_behind(tmp_path):
    supervise = Supervise(tmp_path, name="stop", clusters=2, workers=2).start()
    for index in (1, 2):
        async_task("time.sleep", 120, broker=_probe_broker(f"stop:{index}"))
    wait_for(
        lambda: sum(" processing " in " ".join(p.cmdline()) for p in supervise.family()) == 2,
        seconds=30,
        what="a busy worker in each cluster",
    )
    family = supervise.family()
    clusters = [p for p in family if p.pid in {supervise.row(1).pid, supervise.row(2).pid}]
    assert len(clusters) == 2 and len(family) >= 2 * 5  # qcluster, sentinel, 2 workers, monitor, pusher each
    started = time.monotonic()
    try:
        supervise.process.send_signal(signal.SIGTERM)
        supervise.process.wait(timeout=2 * STOP_GRACE_SECONDS + 30)
        stopped_after = time.monotonic() - started
        left = [p for p in family if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        sessions = {p.pid for p in clusters}
        # A process SIGKILLed with its session is gone once the kernel has torn it down (a zombie waiting
        # to be reaped is not running); on a loaded machine that takes a moment.
        in_sessions = _still_running_in(sessions, seconds=10)
    finally:
        supervise.stop()
    assert supervise.process.returncode == 0, supervise.log()
    # The busy workers got the grace period, then were killed with what was left of their cluster.
    assert STOP_GRACE_SECONDS <= stopped_after < 2 * STOP_GRACE_SECONDS + 30
    assert "Worker clusters stopped." in supervise.log()
    assert left == [], f"left running: {[(p.pid, p.cmdline()) for p in left]}"
    assert in_sessions == []
    assert set(ClusterHeartbeat.objects.values_list("state", flat=True)) == {ClusterHeartbeat.State.STOPPED}
