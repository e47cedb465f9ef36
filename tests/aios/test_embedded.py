"""The embedded PostgreSQL: shared by processes, stopped by the last one, safe in deep folders.

These tests start real servers in their own temporary data folders through separate Python
processes, exactly as the web server, the worker and management commands do.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from django.conf import settings
from django.db import connection

ATTACH = """
import json, sys, django
django.setup()
from django.conf import settings
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT pg_postmaster_start_time()::text, current_database(), "
                   "(SELECT extversion FROM pg_extension WHERE extname = 'vector')")
    started, database, _ = cursor.fetchone()
db = settings.DATABASES["default"]
print(json.dumps({"host": db["HOST"], "started": started, "database": database}), flush=True)
if "--hold" in sys.argv:
    sys.stdin.readline()
"""


def _env(data_dir: Path, **extra: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIOS_") and key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(DJANGO_SETTINGS_MODULE="aios.settings", AIOS_DATA_DIR=str(data_dir), AIOS_SECRET_KEY="x" * 40)
    env.update(extra)
    return env


def _run(data_dir: Path, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", ATTACH],
        cwd=settings.BASE_DIR,
        env=_env(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _start_holder(data_dir: Path) -> tuple[subprocess.Popen, dict]:
    holder = subprocess.Popen(
        [sys.executable, "-c", ATTACH, "--hold"],
        cwd=settings.BASE_DIR,
        env=_env(data_dir),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return holder, json.loads(holder.stdout.readline())


def _postgres_running(pgdata: Path) -> bool:
    for proc in psutil.process_iter(attrs=("name", "cmdline", "status")):
        if (
            proc.info["name"] == "postgres"
            and proc.info["status"] != psutil.STATUS_ZOMBIE
            and str(pgdata) in " ".join(proc.info["cmdline"] or [])
        ):
            return True
    return False


def _wait_stopped(pgdata: Path, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _postgres_running(pgdata):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("data")


def test_a_process_starts_the_server_and_stops_it_when_it_exits(data_dir):
    result = _run(data_dir)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["database"] == "aios"
    assert (data_dir / "pgdata" / "PG_VERSION").read_text().strip() == "18"
    assert _wait_stopped(data_dir / "pgdata")
    assert not (data_dir / "pgdata" / "postmaster.pid").exists()


def test_processes_share_one_server_and_the_last_one_stops_it(data_dir):
    pgdata = data_dir / "pgdata"
    holder, first = _start_holder(data_dir)
    try:
        second = _run(data_dir)
        assert second.returncode == 0, second.stderr
        # The same server answered both: it was started once.
        assert json.loads(second.stdout)["started"] == first["started"]
        assert _postgres_running(pgdata), "the server must outlive a process while another is attached"
    finally:
        holder.communicate("\n", timeout=60)
    assert holder.returncode == 0
    assert _wait_stopped(pgdata)


def test_a_killed_process_does_not_keep_the_server_alive(data_dir):
    pgdata = data_dir / "pgdata"
    holder, first = _start_holder(data_dir)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert _postgres_running(pgdata)

    later = _run(data_dir)
    assert later.returncode == 0, later.stderr
    assert json.loads(later.stdout)["started"] == first["started"]
    assert _wait_stopped(pgdata), "the last live process must stop the server"


def test_a_deep_data_folder_gets_its_socket_in_a_short_place(tmp_path_factory):
    deep = tmp_path_factory.mktemp("deep") / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    assert len(str(deep / "pgdata" / ".s.PGSQL.5432")) > 108

    result = _run(deep)

    assert result.returncode == 0, result.stderr
    host = json.loads(result.stdout)["host"]
    assert len(str(Path(host) / ".s.PGSQL.5432")) <= 107
    assert not host.startswith(str(deep))
    assert _wait_stopped(deep / "pgdata")


def test_database_url_uses_that_server_and_starts_none(tmp_path_factory):
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{quote(db['HOST'], safe='')}:{db['PORT']}/{db['NAME']}"
    data_dir = tmp_path_factory.mktemp("unused")

    result = _run(data_dir, DATABASE_URL=url)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["host"] == db["HOST"]
    assert not (data_dir / "pgdata").exists()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AIOS_DEBUG", "maybe", "AIOS_DEBUG must be one of"),
        ("AIOS_Q_WORKERS", "two", "AIOS_Q_WORKERS must be a whole number"),
        ("AIOS_Q_WORKERS", "0", "AIOS_Q_WORKERS must be at least 1"),
        ("DATABASE_URL", "mysql://u@localhost/db", "DATABASE_URL must point at PostgreSQL"),
        ("AIOS_SECRET_KEY", "short", "AIOS_SECRET_KEY must be at least 32 characters"),
        ("AIOS_APPROVAL_EXPIRY_HOURS", "soon", "AIOS_APPROVAL_EXPIRY_HOURS must be a whole number"),
        ("AIOS_LOG_FORMAT", "xml", "AIOS_LOG_FORMAT must be json or plain"),
    ],
)
def test_bad_settings_fail_at_start_with_a_clear_message(tmp_path, variable, value, message):
    result = _run(tmp_path, **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "pgdata").exists()


@pytest.mark.django_db
def test_the_first_migration_installs_pgvector():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()
        cursor.execute("SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector")
        (distance,) = cursor.fetchone()
    assert tuple(int(part) for part in version.split(".")[:2]) >= (0, 8)
    assert 0 < distance < 0.01
