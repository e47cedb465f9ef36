"""`manage.py backup` / `restore`: a populated workspace goes to one archive and comes back table for table.

The round trip restores into a fresh data folder with its own embedded PostgreSQL (a separate process, as
an operator would on a new machine) and compares every table's row count and content checksum with the
source. Damaged archives and non-empty targets are refused before anything is written.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from aios import backup, tasks
from aios.backup import database
from core import clock, services
from core.models import Artifact, Client, Invoice, Message
from ledger.schedules import schedules_ensure
from tests.ledger.cluster import QCluster, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

FINGERPRINTS = (
    "import json, django; django.setup(); from aios.backup import database; "
    "c = database.Target.from_settings().connect(); print(json.dumps(database.table_fingerprints(c)))"
)


def _source_fingerprints() -> dict:
    with database.Target.from_settings().connect() as connection:
        return database.table_fingerprints(connection)


def _populate() -> Artifact:
    """The demo workspace (clients, contacts, projects, proposals, issued invoices, conversations, history,
    policies…) plus a stored file, so both halves of the backup have content."""
    call_command("seed_demo", stdout=io.StringIO())
    client = Client.objects.order_by("pk").first()
    artifact, _ = services.artifact_store(
        by=None, content=b"%PDF-1.7 signed contract\n" * 100, filename="contract.pdf", client=client
    )
    return artifact


def _fresh_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIOS_") and k not in ("DATABASE_URL",)}
    env.update(
        DJANGO_SETTINGS_MODULE="aios.settings",
        AIOS_DATA_DIR=str(data_dir),
        AIOS_SECRET_KEY=settings.SECRET_KEY,
        AIOS_EMBEDDED_EPHEMERAL="0",
        AIOS_LOG_FORMAT="plain",
    )
    return env


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _backup(tmp_path: Path) -> Path:
    out = io.StringIO()
    call_command("backup", dir=tmp_path / "backups", no_progress=True, stdout=out)
    archives = backup.backups_list(directory=tmp_path / "backups")
    assert len(archives) == 1 and f"Backup written: {archives[0]}" in out.getvalue()
    return archives[0]


def _members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {member.name: tar.extractfile(member).read() for member in tar}


@pytest.fixture
def empty_database():
    """An empty database on the test server, as DATABASE_URL would name for a restore; dropped afterwards."""
    source = database.Target.from_settings()
    name = f"restore_{uuid.uuid4().hex[:10]}"
    with source.connect(autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    target = database.Target(
        name=name, user=source.user, password=source.password, host=source.host, port=source.port, options={}
    )
    yield target
    with source.connect(autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_backup_and_restore_into_a_fresh_workspace_give_back_every_table_and_file(tmp_path, frozen_clock):
    artifact = _populate()
    source = _source_fingerprints()
    archive = _backup(tmp_path)
    assert archive.name == f"aios-backup-{frozen_clock:%Y%m%dT%H%M%SZ}.tar.gz"

    members = _members(archive)
    manifest = json.loads(members["manifest.json"])
    # The manifest describes the same snapshot the dump holds: every table, its rows and content checksum.
    assert manifest["tables"] == source
    assert manifest["tables"]["core_client"]["rows"] == Client.objects.count() > 0
    assert manifest["tables"]["core_invoice"]["rows"] == Invoice.objects.count() > 0
    assert manifest["tables"]["core_message"]["rows"] == Message.objects.count() > 0
    assert manifest["versions"]["postgresql_server"] and manifest["versions"]["pg_dump"].startswith("pg_dump")
    assert manifest["migrations"]["core"] and manifest["created_at"] == frozen_clock.isoformat()
    # Files of the data folder, not the live database cluster nor the backups.
    artifact_path = Path(artifact.file.path).relative_to(settings.DATA_DIR).as_posix()
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert (
        listed[artifact_path]["sha256"] == hashlib.sha256(Path(artifact.file.path).read_bytes()).hexdigest()
    )
    assert not any("PG_VERSION" in path or path.startswith("backups/") for path in listed)
    sums = dict(reversed(line.split("  ", 1)) for line in members["SHA256SUMS"].decode().splitlines())
    assert set(sums) == set(members) - {"SHA256SUMS"}
    assert all(hashlib.sha256(members[name]).hexdigest() == digest for name, digest in sums.items())

    out = io.StringIO()
    call_command("restore", str(archive), verify_only=True, no_progress=True, stdout=out)
    assert f"{archive} is intact: {len(source)} tables, {len(listed)} files" in out.getvalue()

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    env = _fresh_env(fresh)
    restored = _manage(env, "restore", str(archive), "--no-progress")
    assert restored.returncode == 0, restored.stderr
    assert "each table's content checksum matches the backup" in restored.stdout

    # Read back by a new process on the restored server: every table, every row, the same content.
    check = subprocess.run(
        [sys.executable, "-c", FINGERPRINTS], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout.strip().splitlines()[-1]) == source
    assert (fresh / artifact_path).read_bytes() == Path(artifact.file.path).read_bytes()


def test_restore_refuses_a_database_that_has_tables_and_changes_nothing(tmp_path):
    _populate()
    archive = _backup(tmp_path)
    before = _source_fingerprints()
    with pytest.raises(CommandError, match="already has tables: a restore only goes into an empty database"):
        call_command("restore", str(archive), no_progress=True)
    assert _source_fingerprints() == before


def test_restore_refuses_a_data_folder_that_is_not_empty(tmp_path, empty_database):
    _populate()
    archive = _backup(tmp_path)
    data_dir = tmp_path / "target"
    (data_dir / "media").mkdir(parents=True)
    (data_dir / "media" / "mine.txt").write_text("the operator's own file")
    with pytest.raises(
        backup.BackupError, match=r"is not empty \(media\): restore into a fresh AIOS_DATA_DIR"
    ):
        backup.backup_restore(path=archive, target=empty_database, data_dir=data_dir)
    assert database.database_is_empty(empty_database)
    assert [p.name for p in data_dir.rglob("*")] == ["media", "mine.txt"]


def _tampered(archive: Path, into: Path) -> Path:
    """The same archive with one byte of the database dump changed, re-packed so gzip and tar are valid."""
    members = _members(archive)
    dump = bytearray(members["database.dump"])
    dump[len(dump) // 2] ^= 0xFF
    members["database.dump"] = bytes(dump)
    with tarfile.open(into, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return into


@pytest.mark.parametrize("damage", ["truncated", "changed byte", "not an archive"])
def test_a_damaged_archive_is_refused_with_a_clear_error_and_nothing_is_restored(
    tmp_path, empty_database, damage
):
    _populate()
    archive = _backup(tmp_path)
    if damage == "truncated":
        broken = tmp_path / "truncated.tar.gz"
        broken.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
        expected = "is damaged"
    elif damage == "changed byte":
        broken = _tampered(archive, tmp_path / "tampered.tar.gz")
        expected = "is damaged: the checksum of database.dump does not match"
    else:
        broken = tmp_path / "notes.tar.gz"
        broken.write_bytes(gzip.compress(b"just some text, not a tar file"))
        expected = "is damaged|not a readable backup archive"
    data_dir = tmp_path / "target"
    with pytest.raises(backup.BackupError, match=expected):
        backup.backup_restore(path=broken, target=empty_database, data_dir=data_dir)
    assert database.database_is_empty(empty_database)
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_restore_into_an_empty_database_checks_every_table_against_the_manifest(tmp_path, empty_database):
    """The in-process path the command uses, into an empty database named like DATABASE_URL would."""
    _populate()
    source = _source_fingerprints()
    archive = _backup(tmp_path)
    result = backup.backup_restore(path=archive, target=empty_database, data_dir=tmp_path / "target")
    with empty_database.connect() as connection:
        assert database.table_fingerprints(connection) == source
    assert result.rows == sum(table["rows"] for table in source.values())
    assert result.files == len(json.loads(_members(archive)["manifest.json"])["files"]) >= 1


def test_the_daily_schedule_keeps_the_newest_backups(tmp_path, settings, frozen_clock):
    settings.AIOS_BACKUP_DIR = tmp_path / "daily"
    settings.AIOS_BACKUP_KEEP = 2
    schedules_ensure()
    schedule = Schedule.objects.get(name="workspace-backup")
    assert (schedule.func, schedule.schedule_type) == ("aios.tasks.backup_scheduled", Schedule.DAILY)
    Client.objects.create(name="Backed up")
    made = []
    for day in range(3):
        with clock.frozen(frozen_clock + dt.timedelta(days=day)):
            made.append(tasks.backup_scheduled().split(":")[0])
    kept = [path.name for path in backup.backups_list(directory=tmp_path / "daily")]
    assert kept == made[1:]
    assert not (tmp_path / "daily" / made[0]).exists()
    assert not list((tmp_path / "daily").glob("*.partial"))


def test_a_backup_folder_inside_the_data_folder_is_not_backed_up_into_itself(tmp_path, settings):
    inside = Path(settings.DATA_DIR) / "elsewhere-backups"
    try:
        call_command("backup", dir=inside, no_progress=True, stdout=io.StringIO())
        call_command("backup", dir=inside, no_progress=True, stdout=io.StringIO())
        second = backup.backups_list(directory=inside)[-1]
        listed = [entry["path"] for entry in json.loads(_members(second)["manifest.json"])["files"]]
        assert not any(path.startswith("elsewhere-backups/") for path in listed)
    finally:
        shutil.rmtree(inside, ignore_errors=True)


def test_backup_errors_are_clear_when_pg_dump_is_missing(tmp_path, settings):
    settings.AIOS_PG_BIN_DIR = str(tmp_path)
    with pytest.raises(CommandError, match=f"AIOS_PG_BIN_DIR is {tmp_path}, but it has no pg_dump"):
        call_command("backup", dir=tmp_path / "b", no_progress=True)
    assert backup.backups_list(directory=tmp_path / "b") == []
    assert not list((tmp_path / "b").glob("*.partial"))


def test_the_schedule_runs_the_backup_in_a_real_cluster_and_prunes_old_archives(tmp_path):
    folder = tmp_path / "scheduled"
    folder.mkdir()
    for old in ("aios-backup-20200101T000000Z.tar.gz", "aios-backup-20200102T000000Z.tar.gz"):
        (folder / old).write_bytes(b"an old archive")
    Client.objects.create(name="Scheduled")
    schedules_ensure()
    Schedule.objects.exclude(name="workspace-backup").delete()
    cluster = QCluster("backup", tmp_path, workers=1, AIOS_BACKUP_DIR=str(folder), AIOS_BACKUP_KEEP="1")
    try:
        cluster.start(ready_seconds=90)
        archives = wait_for(
            lambda: [p for p in backup.backups_list(directory=folder) if "2020" not in p.name] or None,
            seconds=120,
            what=f"the scheduled backup:\n{cluster.log_tail()}",
        )
        wait_for(
            lambda: len(backup.backups_list(directory=folder)) == 1, seconds=30, what="old archives pruned"
        )
    finally:
        cluster.kill()
    manifest = backup.backup_verify(path=archives[0])
    assert manifest["tables"]["core_client"]["rows"] == 1
    assert backup.backups_list(directory=folder) == archives
