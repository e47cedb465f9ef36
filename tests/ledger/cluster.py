"""Real django-q2 clusters for the ledger's fault and concurrency tests.

Each cluster is `manage.py qcluster` in its own session (process group), pointed at the test database
through DATABASE_URL, exactly as a production worker points at its server. The process tree is
`qcluster` → sentinel (the guard) → workers, monitor and pusher; django-q2 logs the pid of each
child when it starts, which is how the workers are told apart from the monitor and the pusher.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import psutil
from django.conf import settings
from django.db import connection

T = TypeVar("T")

_WORKER_READY = re.compile(r"ready for work at (\d+)")


def database_url() -> str:
    """The URL of the database this process uses (the test database under pytest)."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{quote(db['USER'], safe='')}{password}@{quote(db['HOST'], safe='')}:{db['PORT']}"
        f"/{db['NAME']}"
    )


def subprocess_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment for a child Django process on this process's database.

    The secret key must be ours: django-q2 signs every package with it.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIOS_") and key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="aios.settings",
        DATABASE_URL=database_url(),
        AIOS_DATA_DIR=str(data_dir),
        AIOS_SECRET_KEY=settings.SECRET_KEY,
        AIOS_LOG_FORMAT="plain",
    )
    env.update(extra)
    return env


def wait_for(condition: Callable[[], T], *, seconds: float, interval: float = 0.2, what: str = "") -> T:
    """Poll `condition` until it returns something truthy; fail with `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what or condition}")
        time.sleep(interval)


class QCluster:
    """One `manage.py qcluster` subprocess and everything it forks."""

    def __init__(self, name: str, log_dir: Path, *, workers: int = 2, **env: str) -> None:
        self.name = name
        self.workers = workers
        self.log_path = log_dir / f"qcluster-{name}.log"
        self.env = subprocess_env(log_dir, AIOS_Q_WORKERS=str(workers), **env)
        self.process: subprocess.Popen | None = None
        self.log_offset = 0
        # Every worker pid this cluster had at some point (claimed_by names the worker's pid).
        self.seen_workers: set[int] = set()

    # --- Lifecycle ------------------------------------------------------------------------

    def start(self, *, ready_seconds: float = 60) -> QCluster:
        self.launch()
        return self.wait_ready(seconds=ready_seconds)

    def launch(self) -> QCluster:
        """Start the subprocess without waiting for it (to start several clusters at once)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, *, seconds: float = 60) -> QCluster:
        wait_for(
            lambda: len(self.worker_pids()) >= self.workers and self._running_logged(),
            seconds=seconds,
            what=f"cluster {self.name} to start:\n{self.log_tail()}",
        )
        return self

    def _running_logged(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, f"cluster {self.name} exited:\n{self.log_tail()}"
        return "running." in self._log_since_start()

    def kill(self) -> None:
        """SIGKILL the whole cluster at once, as a crash or an OOM kill of the container would."""
        if self.process is None:
            return
        self.worker_pids()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        wait_for(lambda: not self.leftovers(), seconds=15, what=f"cluster {self.name} to disappear")

    def leftovers(self) -> list[psutil.Process]:
        """Live (non-zombie) processes still in this cluster's session: none once it was killed."""
        assert self.process is not None
        left = []
        for proc in psutil.process_iter(attrs=("pid", "status")):
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            try:
                in_session = os.getsid(proc.info["pid"]) == self.process.pid
            except (ProcessLookupError, PermissionError):
                continue
            if in_session:
                left.append(proc)
        return left

    # --- Inspection -----------------------------------------------------------------------

    def family(self) -> list[psutil.Process]:
        if self.process is None or self.process.poll() is not None:
            return []
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def worker_pids(self) -> list[int]:
        """The live worker processes (not the sentinel, monitor or pusher)."""
        family = set()
        for proc in self.family():
            try:
                if proc.status() != psutil.STATUS_ZOMBIE:
                    family.add(proc.pid)
            except psutil.NoSuchProcess:
                continue
        logged = {int(pid) for pid in _WORKER_READY.findall(self._log_since_start())}
        workers = family & logged
        self.seen_workers.update(workers)
        return sorted(workers)

    def log(self, offset: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_bytes()[offset:].decode(errors="replace")

    def _log_since_start(self) -> str:
        return self.log(self.log_offset)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log()[-chars:]


def kill_while(pid: int, busy: Callable[[], bool]) -> bool:
    """SIGKILL `pid` in the middle of its work; False (and it runs on) when it turns out to be idle.

    The process is frozen (SIGSTOP) first and `busy` asks, about the frozen process, whether it is
    inside a task. Killing an idle django-q2 worker would wedge the whole cluster: an idle worker waits
    for its next package while holding the task queue's read lock, which a killed process never
    releases (django-q2/django-q2#23). A worker in the middle of a task holds no such lock.
    """
    try:
        os.kill(pid, signal.SIGSTOP)
        wait_for(
            lambda: psutil.Process(pid).status() == psutil.STATUS_STOPPED,
            seconds=5,
            interval=0.001,
            what=f"process {pid} to stop",
        )
    except (ProcessLookupError, psutil.NoSuchProcess):
        return False
    if busy():
        os.kill(pid, signal.SIGKILL)
        return True
    os.kill(pid, signal.SIGCONT)
    return False
