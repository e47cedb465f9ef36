"""One archive holds the whole workspace: the database dump, the files of the data folder, a manifest and
a checksum for every member. See docs/adr/0012-backup-and-client-data.md.

Layout of `aios-backup-<UTC time>.tar.gz`:

    database.dump        pg_dump, custom format
    files/<path>         every file under AIOS_DATA_DIR except database clusters, backups, static files
    manifest.json        versions, time, tables (rows and content checksum), files (size, sha256)
    SHA256SUMS           `sha256  member` for every member above (the format `sha256sum -c` reads)

A backup is written to `<name>.partial` and renamed when complete, so a backup killed half-way is never
mistaken for one. A restore reads the whole archive and checks every checksum before it changes anything.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

import django
from django.conf import settings
from tqdm import tqdm

from aios.backup import database
from aios.backup.errors import BackupError
from core import clock

FORMAT = "aios-backup"
FORMAT_VERSION = 1
DUMP = "database.dump"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
FILES = "files/"
PREFIX = "aios-backup-"
SUFFIX = ".tar.gz"
_CHUNK = 1024 * 1024
# Entries of a data folder that a fresh start creates by itself and a restore may therefore overwrite.
_FRESH_START_ENTRIES = {"secret_key", "static"}


@dataclass
class BackupResult:
    path: Path
    size: int
    tables: int
    rows: int
    files: int
    pruned: list[Path] = field(default_factory=list)


@dataclass
class RestoreResult:
    tables: int
    rows: int
    files: int
    manifest: dict[str, Any]


class _Reading(io.RawIOBase):
    """A file read by tarfile, hashed and counted on the progress bar on the way."""

    def __init__(self, handle: IO[bytes], bar: tqdm) -> None:
        self.handle, self.bar, self.digest = handle, bar, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        self.bar.update(len(data))
        return data


def _is_cluster(folder: Path) -> bool:
    return (folder / "PG_VERSION").is_file()


def backup_dir() -> Path:
    return Path(settings.AIOS_BACKUP_DIR)


def data_files(data_dir: Path, *, skip: tuple[Path, ...] = ()) -> list[Path]:
    """The files a backup keeps: everything under the data folder but live database clusters (the dump
    holds the database), earlier backups and collected static files (rebuilt by `collectstatic`)."""
    skipped = {backup_dir().resolve(), (data_dir / "static").resolve(), *(path.resolve() for path in skip)}
    kept = []
    for root, folders, names in os.walk(data_dir):
        here = Path(root)
        folders[:] = sorted(
            name
            for name in folders
            if (here / name).resolve() not in skipped
            and not _is_cluster(here / name)
            and not name.startswith(".restore-")
        )
        for name in sorted(names):
            path = here / name
            if path.is_file() and not path.is_symlink() and not name.endswith(".partial"):
                kept.append(path)
    return kept


def _versions(snapshot: database.Snapshot) -> dict[str, Any]:
    try:
        app_version = metadata.version("aios-workspace")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a tree that is not installed
        app_version = "unknown"
    return {
        "aios_workspace": app_version,
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql_server": snapshot.server_version,
        "pg_dump": database.tool_version("pg_dump"),
    }


def _archive_name(directory: Path) -> Path:
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"{PREFIX}{stamp}{SUFFIX}"
    n = 2
    while path.exists():
        path = directory / f"{PREFIX}{stamp}-{n}{SUFFIX}"
        n += 1
    return path


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o600
    tar.addfile(info, io.BytesIO(data))


def backup_create(
    *, destination: Path | None = None, progress: bool = False, keep: int | None = None
) -> BackupResult:
    """Write one archive of the workspace (database and files) and, with `keep`, delete all but the newest
    `keep` archives of the backup folder."""
    data_dir = Path(settings.DATA_DIR)
    directory = destination or backup_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = _archive_name(directory)
    partial = path.with_name(path.name + ".partial")
    target = database.Target.from_settings()
    mtime = clock.now().timestamp()
    try:
        with tempfile.TemporaryDirectory(dir=directory, prefix=".dump-") as scratch:
            dump = Path(scratch) / DUMP
            with database.snapshot_open(target) as snapshot:
                database.dump_run(target=target, snapshot_id=snapshot.id, into=dump)
            files = data_files(data_dir, skip=(directory,))
            total = dump.stat().st_size + sum(file.stat().st_size for file in files)
            sums: dict[str, str] = {}
            listed = []
            with (
                tqdm(total=total, unit="B", unit_scale=True, desc="backup", disable=not progress) as bar,
                tarfile.open(partial, "w:gz", compresslevel=6) as tar,
            ):
                for source, name in [
                    (dump, DUMP),
                    *((file, FILES + file.relative_to(data_dir).as_posix()) for file in files),
                ]:
                    info = tar.gettarinfo(str(source), arcname=name)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    with source.open("rb") as handle:
                        reading = _Reading(handle, bar)
                        tar.addfile(info, reading)
                    sums[name] = reading.digest.hexdigest()
                    if name != DUMP:
                        listed.append({"path": name[len(FILES) :], "size": info.size, "sha256": sums[name]})
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": clock.now().isoformat(),
                    "versions": _versions(snapshot),
                    "database": {
                        "name": target.name,
                        "member": DUMP,
                        "size": dump.stat().st_size,
                        "sha256": sums[DUMP],
                    },
                    "migrations": snapshot.migrations,
                    "tables": snapshot.tables,
                    "files": listed,
                }
                manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode()
                _add_bytes(tar, MANIFEST, manifest_bytes, mtime)
                sums[MANIFEST] = hashlib.sha256(manifest_bytes).hexdigest()
                _add_bytes(
                    tar, SUMS, "".join(f"{digest}  {name}\n" for name, digest in sums.items()).encode(), mtime
                )
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    pruned = backups_prune(directory=directory, keep=keep) if keep else []
    return BackupResult(
        path=path,
        size=path.stat().st_size,
        tables=len(snapshot.tables),
        rows=sum(table["rows"] for table in snapshot.tables.values()),
        files=len(listed),
        pruned=pruned,
    )


def backups_list(*, directory: Path | None = None) -> list[Path]:
    """Complete archives in the backup folder, oldest first (names sort by time)."""
    directory = directory or backup_dir()
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.glob(f"{PREFIX}*{SUFFIX}") if path.is_file())


def backups_prune(*, directory: Path | None = None, keep: int) -> list[Path]:
    """Delete all but the newest `keep` archives; returns what was deleted."""
    if keep < 1:
        raise BackupError("At least one backup must be kept.")
    archives = backups_list(directory=directory)
    doomed = archives[:-keep]
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


# --- Reading an archive ------------------------------------------------------------------------


def _safe_name(member: tarfile.TarInfo) -> str:
    name = member.name
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not member.isfile():
        raise BackupError(
            f"The archive holds {name!r}, which is not a plain file inside it: refusing to restore."
        )
    return name


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:gz")
    except FileNotFoundError:
        raise BackupError(f"No archive at {path}.") from None
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{path} is not a readable backup archive (tar.gz): {exc}") from None


def _members(tar: tarfile.TarFile) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    for member in tar:
        _safe_name(member)
        handle = tar.extractfile(member)
        if handle is None:  # pragma: no cover - _safe_name admits plain files only
            raise BackupError(f"The archive member {member.name!r} cannot be read.")
        yield member, handle


def backup_verify(*, path: Path, progress: bool = False) -> dict[str, Any]:
    """Read the whole archive and check every member against SHA256SUMS and the manifest; returns the
    manifest. Any damage (truncation, a changed byte, a missing or extra member) is a BackupError."""
    digests: dict[str, str] = {}
    texts: dict[str, bytes] = {}
    try:
        with (
            _open(path) as tar,
            tqdm(unit="B", unit_scale=True, desc="verify", disable=not progress) as bar,
        ):
            for member, handle in _members(tar):
                if member.name in digests:
                    raise BackupError(f"The archive holds {member.name!r} twice: refusing to restore.")
                digest = hashlib.sha256()
                kept = member.name in (MANIFEST, SUMS)
                chunks = []
                for chunk in iter(partial(handle.read, _CHUNK), b""):
                    digest.update(chunk)
                    bar.update(len(chunk))
                    if kept:
                        chunks.append(chunk)
                digests[member.name] = digest.hexdigest()
                if kept:
                    texts[member.name] = b"".join(chunks)
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BackupError(f"{path} is damaged (it cannot be read to the end): {exc}") from None
    if SUMS not in texts or MANIFEST not in texts:
        raise BackupError(f"{path} has no {SUMS} or {MANIFEST}: it is not a complete workspace backup.")
    expected = {}
    for line in texts[SUMS].decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    present = {name: digest for name, digest in digests.items() if name != SUMS}
    if set(expected) != set(present):
        missing = sorted(set(expected) - set(present))
        extra = sorted(set(present) - set(expected))
        raise BackupError(f"{path} does not match its checksum list: missing {missing}, unexpected {extra}.")
    bad = sorted(name for name, digest in present.items() if expected[name] != digest)
    if bad:
        raise BackupError(f"{path} is damaged: the checksum of {', '.join(bad[:5])} does not match.")
    try:
        manifest = json.loads(texts[MANIFEST])
    except ValueError as exc:
        raise BackupError(f"{path} has an unreadable manifest: {exc}") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is not a backup this version can restore (format {manifest.get('format')!r} "
            f"version {manifest.get('format_version')!r})."
        )
    listed = {FILES + entry["path"]: entry["sha256"] for entry in manifest.get("files", [])}
    listed[DUMP] = manifest["database"]["sha256"]
    if any(present.get(name) != digest for name, digest in listed.items()) or set(listed) | {MANIFEST} != set(
        present
    ):
        raise BackupError(f"{path}: the manifest's file list does not match the archive.")
    return manifest


def _data_dir_leftovers(data_dir: Path) -> list[str]:
    if not data_dir.exists():
        return []
    backups = backup_dir().resolve()
    leftovers = []
    for entry in sorted(data_dir.iterdir()):
        if entry.name in _FRESH_START_ENTRIES or _is_cluster(entry) or entry.resolve() == backups:
            continue
        if entry.name.startswith(".restore-"):
            continue
        leftovers.append(entry.name)
    return leftovers


def restore_check_empty(*, target: database.Target, data_dir: Path) -> None:
    if not database.database_is_empty(target):
        raise BackupError(
            f"The database {target.name!r} already has tables: a restore only goes into an empty database "
            "(a fresh AIOS_DATA_DIR, or an empty database named by DATABASE_URL). Nothing was changed."
        )
    leftovers = _data_dir_leftovers(data_dir)
    if leftovers:
        raise BackupError(
            f"The data folder {data_dir} is not empty ({', '.join(leftovers[:10])}): restore into a fresh "
            "AIOS_DATA_DIR. Nothing was changed."
        )


def backup_restore(
    *,
    path: Path,
    progress: bool = False,
    target: database.Target | None = None,
    data_dir: Path | None = None,
) -> RestoreResult:
    """Restore an archive into an empty database and data folder: verify everything first, stage the files,
    restore the database in one transaction, check every table against the manifest, then put the files in
    place. On any failure the database is left empty and no file is added. `target` and `data_dir` default
    to the workspace's own (the settings)."""
    data_dir = data_dir or Path(settings.DATA_DIR)
    target = target or database.Target.from_settings()
    restore_check_empty(target=target, data_dir=data_dir)
    manifest = backup_verify(path=path, progress=progress)
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=".restore-"))
    wanted = {FILES + entry["path"]: entry["sha256"] for entry in manifest["files"]}
    wanted[DUMP] = manifest["database"]["sha256"]
    try:
        with _open(path) as tar:
            total = sum(member.size for member in tar.getmembers())
            with tqdm(total=total, unit="B", unit_scale=True, desc="restore", disable=not progress) as bar:
                for member, handle in _members(tar):
                    if member.name == DUMP:
                        out_path = staging / DUMP
                    elif member.name.startswith(FILES):
                        out_path = staging / "files" / member.name[len(FILES) :]
                    else:
                        continue
                    out_path.parent.mkdir(parents=True, exist_ok=True)
                    digest = hashlib.sha256()
                    with out_path.open("wb") as out:
                        for chunk in iter(partial(handle.read, _CHUNK), b""):
                            digest.update(chunk)
                            out.write(chunk)
                            bar.update(len(chunk))
                    # Read again now: the archive could have changed since it was verified.
                    if digest.hexdigest() != wanted[member.name]:
                        raise BackupError(f"{path} changed while it was being restored.")
        database.restore_run(target=target, dump=staging / DUMP)
        with target.connect() as connection:
            restored = database.table_fingerprints(connection)
        if restored != manifest["tables"]:
            differing = sorted(
                name
                for name in set(restored) | set(manifest["tables"])
                if restored.get(name) != manifest["tables"].get(name)
            )
            database.database_wipe(target)
            raise BackupError(
                f"The restored database does not match the backup's manifest ({', '.join(differing[:10])}); "
                "it was emptied again."
            )
        files_root = staging / "files"
        moved = 0
        if files_root.exists():
            for source in sorted(p for p in files_root.rglob("*") if p.is_file()):
                final = data_dir / source.relative_to(files_root)
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(source, final)
                moved += 1
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreResult(
        tables=len(manifest["tables"]),
        rows=sum(table["rows"] for table in manifest["tables"].values()),
        files=moved,
        manifest=manifest,
    )
