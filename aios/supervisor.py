"""A process supervisor for the web server and django-q2 clusters (`manage.py up` and `supervise`).

What it guarantees:
- a child that exits (a crashed or killed cluster, a dead web server) is started again, with a backoff
  when it keeps dying quickly; each restart is logged and counted on the cluster's status row;
- a cluster that is alive but runs nothing (django-q2 issue #23: a worker killed while idle takes the
  task queue's lock with it) is found by a heartbeat probe sent to that cluster's own queue
  (aios/heartbeat.py, aios/brokers.py) and restarted;
- on stop, every child and everything it forked is gone: each child leads its own session, gets
  SIGTERM, and whatever is left of its session after the grace period is SIGKILLed. A child also gets
  SIGTERM from the kernel if the supervisor itself dies (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psutil
from django.conf import settings
from django.db import close_old_connections

from aios import heartbeat
from aios.env import env_int
from aios.models import ClusterHeartbeat
from core import clock

logger = logging.getLogger(__name__)

# A child that ran this long before exiting is not crash-looping: restart it at once.
HEALTHY_RUN_SECONDS = 60
MAX_BACKOFF_SECONDS = 30
# How long a stopping child may take after SIGTERM before what is left of it is SIGKILLed.
STOP_GRACE_SECONDS = 20
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child before exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: str
    cluster_id: str = ""  # set for q2 clusters: they have a status row and a heartbeat
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_exits: int = 0
    restart_at: float | None = None
    probe_sent_at: float = 0.0
    busy_at: datetime | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


class Supervisor:
    def __init__(
        self,
        *,
        children: list[Child],
        heartbeat_seconds: int,
        deadline_seconds: int,
        stop_grace_seconds: int,
        say: Callable[[str], None],
    ) -> None:
        self.children = children
        self.heartbeat_seconds = heartbeat_seconds
        self.deadline_seconds = deadline_seconds
        self.stop_grace_seconds = stop_grace_seconds
        self.say = say
        self.stop_requested = False
        self.host = socket.gethostname()
        self._last_unreachable = ""

    @classmethod
    def from_settings(cls, *, children: list[Child], stdout) -> Supervisor:
        """The supervisor of a management command: timings from settings, its lines written unbuffered
        to `stdout`, and stopped by SIGINT (Ctrl-C) or SIGTERM."""

        def say(line: str) -> None:
            # Unbuffered: the operator (or a log collector reading a pipe) sees a restart when it happens.
            stdout.write(line)
            stdout.flush()

        supervisor = cls(
            children=children,
            heartbeat_seconds=settings.AIOS_HEARTBEAT_SECONDS,
            deadline_seconds=settings.AIOS_HEARTBEAT_DEADLINE_SECONDS,
            stop_grace_seconds=env_int("AIOS_STOP_GRACE_SECONDS", STOP_GRACE_SECONDS, minimum=1),
            say=say,
        )
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, supervisor.request_stop)
        return supervisor

    # --- Life cycle -------------------------------------------------------------------------
    def request_stop(self, signum=None, frame=None) -> None:
        self.stop_requested = True

    def start(self) -> None:
        try:
            for child in self.children:
                self._launch(child)
        except OSError:
            self.stop()
            raise

    def run(self, *, tick_seconds: float = 0.5) -> None:
        """Watch the children until a stop is requested (SIGINT/SIGTERM call `request_stop`)."""
        while not self.stop_requested:
            self.tick()
            time.sleep(tick_seconds)

    def tick(self) -> None:
        close_old_connections()
        now = time.monotonic()
        for child in self.children:
            if self.stop_requested:
                return
            if child.restart_at is not None:
                if now >= child.restart_at:
                    self._launch(child)
                continue
            code = child.process.poll() if child.process else 0
            if code is not None:
                self._exited(child, code)
            elif child.cluster_id:
                try:
                    self._heartbeat(child, now)
                except Exception as exc:  # noqa: BLE001 - see below
                    # The database or Redis is out of reach: no probe can be sent or judged, so no
                    # cluster is called stalled. Keeping the processes up does not need either.
                    self._unreachable(exc)

    def _unreachable(self, exc: Exception) -> None:
        message = f"heartbeat paused: {type(exc).__name__}: {exc}".strip()
        if message != self._last_unreachable:
            self.say(message)
            logger.warning("supervisor: %s", message)
        self._last_unreachable = message

    def stop(self) -> None:
        """Stop every child: the web server first, so no request arrives while the workers drain; then
        all clusters at once, each given the grace period to finish its tasks (a task cut short is
        recovered by the ledger when its lease expires)."""
        web = [child for child in self.children if not child.cluster_id]
        clusters = [child for child in self.children if child.cluster_id]
        for group in (web, clusters):
            self._terminate(group, grace=self.stop_grace_seconds)
        for child in clusters:
            self._record(heartbeat.cluster_stopped, cluster_id=child.cluster_id)

    def _record(self, service: Callable[..., object], **kwargs: object) -> None:
        """Write a status row; an unreachable database must not stop the supervisor from supervising."""
        try:
            close_old_connections()
            service(**kwargs)
        except Exception as exc:  # noqa: BLE001 - any failure of the row write, reported
            self._unreachable(exc)

    # --- Children ---------------------------------------------------------------------------
    def _launch(self, child: Child) -> None:
        child.restart_at = None
        child.process = subprocess.Popen(  # noqa: S603 - argv built by the caller from fixed parts
            child.argv,
            cwd=child.cwd,
            env=child.env,
            # Its own session: Ctrl-C reaches the supervisor only, and the session names everything
            # the child forks (q2's sentinel, workers, monitor, pusher; gunicorn's workers).
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - the supervisor is single-threaded
        )
        child.started_at = time.monotonic()
        child.probe_sent_at = 0.0
        child.busy_at = None
        if child.cluster_id:
            self._record(
                heartbeat.cluster_started, cluster_id=child.cluster_id, host=self.host, pid=child.pid
            )
        self.say(f"{child.name} started (pid {child.process.pid})")

    def _exited(self, child: Child, code: int) -> None:
        lived = time.monotonic() - child.started_at
        child.quick_exits = 0 if lived >= HEALTHY_RUN_SECONDS else child.quick_exits + 1
        delay = min(2 ** (child.quick_exits - 1), MAX_BACKOFF_SECONDS) if child.quick_exits else 0
        self._kill_session(child)
        reason = f"exited with code {code} after {lived:.0f} s"
        self.say(f"{child.name} {reason}; restarting" + (f" in {delay} s" if delay else ""))
        logger.warning("supervisor: %s %s; restarting in %s s", child.name, reason, delay)
        if child.cluster_id:
            self._record(
                heartbeat.cluster_restarting,
                cluster_id=child.cluster_id,
                state=ClusterHeartbeat.State.EXITED,
                reason=reason,
            )
        child.restart_at = time.monotonic() + delay

    def _heartbeat(self, child: Child, now: float) -> None:
        if self._busy(child):
            child.busy_at = clock.now()
        verdict = heartbeat.cluster_probe_check(
            cluster_id=child.cluster_id, busy_at=child.busy_at, deadline_seconds=self.deadline_seconds
        )
        if verdict.stalled:
            self.say(f"{child.name} is stalled: {verdict.reason}; restarting")
            logger.error("supervisor: %s is stalled: %s; restarting", child.name, verdict.reason)
            heartbeat.cluster_restarting(
                cluster_id=child.cluster_id, state=ClusterHeartbeat.State.STALLED, reason=verdict.reason
            )
            # A stalled cluster cannot stop itself (its workers never receive the stop message): kill it.
            self._terminate([child], grace=0)
            child.quick_exits = 0
            child.restart_at = time.monotonic()
            return
        if now - child.probe_sent_at >= self.heartbeat_seconds:
            heartbeat.cluster_probe_send(cluster_id=child.cluster_id)
            child.probe_sent_at = now

    def _busy(self, child: Child) -> bool:
        """True while a worker of the cluster runs a task.

        django-q2 titles a worker process `qcluster <name> processing <task> …` while it runs a task and
        `qcluster <name> idle` otherwise (with setproctitle installed, a dependency for this reason).
        """
        try:
            family = psutil.Process(child.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return False
        for process in family:
            with contextlib.suppress(psutil.Error):
                if " processing " in " ".join(process.cmdline()):
                    return True
        return False

    def _session(self, child: Child) -> list[psutil.Process]:
        """Live processes of the child's session (the child and all it forked), zombies excluded."""
        if child.process is None:
            return []
        found = []
        for process in psutil.process_iter(attrs=("pid", "status")):
            if process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            try:
                if os.getsid(process.info["pid"]) == child.process.pid:
                    found.append(process)
            except (ProcessLookupError, PermissionError):
                continue
        return found

    def _terminate(self, children: list[Child], *, grace: float) -> None:
        """SIGTERM each child, wait up to `grace` for all of them, then kill what is left of their sessions"""
        running = [c for c in children if c.process is not None and c.process.poll() is None]
        if grace > 0:
            for child in running:
                child.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + grace
            for child in running:
                try:
                    child.process.wait(timeout=max(deadline - time.monotonic(), 0.01))
                except subprocess.TimeoutExpired:
                    self.say(f"{child.name} did not stop within {grace:.0f} s; killing it")
        for child in children:
            self._kill_session(child)
            if child.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.process.wait(timeout=10)

    def _kill_session(self, child: Child) -> None:
        """SIGKILL whatever is left of the child's session, and wait until it is gone."""
        deadline = time.monotonic() + 10
        while (left := self._session(child)) and time.monotonic() < deadline:
            for process in left:
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()
            psutil.wait_procs(left, timeout=1)
        if child.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=1)


def child_env() -> dict[str, str]:
    """This process's environment for a child, naming the settings module it runs with."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "aios.settings")}


def cluster_children(*, name: str, count: int, env: dict[str, str]) -> list[Child]:
    """`count` q2 clusters, each with the id `<name>:<n>` that names its probe queue and status row."""
    manage = str(settings.BASE_DIR / "manage.py")
    children = []
    for index in range(1, count + 1):
        cluster_id = f"{name}:{index}"
        children.append(
            Child(
                name=f"worker cluster {cluster_id}",
                argv=[sys.executable, manage, "qcluster"],
                env={**env, "AIOS_Q_CLUSTER_ID": cluster_id},
                cwd=str(settings.BASE_DIR),
                cluster_id=cluster_id,
            )
        )
    return children
