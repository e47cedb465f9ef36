"""A real Redis server on a free loopback port, in a throw-away folder (Debian's redis-server).

`make test` installs the package (scripts/system-packages.sh); this module installs nothing. The
server keeps nothing on disk (no snapshots, no append-only file) and is stopped with its folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def redis_binary() -> str | None:
    return shutil.which("redis-server") or next(
        (path for path in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.access(path, os.X_OK)),
        None,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def redis_server_running() -> Iterator[str]:
    """Start redis-server; yields its URL (`redis://127.0.0.1:PORT/0`)."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError(
            "redis-server is not installed: run scripts/system-packages.sh (make test does it)"
        )
    root = Path(tempfile.mkdtemp(prefix="aios-redis-"))
    port = _free_port()
    log = root / "redis.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(root), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}: {log.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer on port {port}: {log.read_text()}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def redis_url() -> Iterator[str]:
    if redis_binary() is None:
        pytest.fail("redis-server is not installed: run scripts/system-packages.sh (make test does it)")
    with redis_server_running() as url:
        yield url


@contextlib.contextmanager
def broker_in_this_process(url: str | None) -> Iterator[None]:
    """Point this process's django-q2 at `url`'s Redis (None: the ORM broker), as AIOS_Q_BROKER would.

    django-q2 reads its configuration once into class attributes of `Conf`; the cluster subprocesses
    get AIOS_Q_BROKER in their environment instead.
    """
    from django_q.conf import Conf

    saved = (Conf.BROKER_CLASS, Conf.REDIS, Conf.ORM)
    if url is not None:
        Conf.BROKER_CLASS, Conf.REDIS, Conf.ORM = "aios.brokers.RedisBroker", url, None
    try:
        yield
    finally:
        Conf.BROKER_CLASS, Conf.REDIS, Conf.ORM = saved
