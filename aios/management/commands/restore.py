"""`manage.py restore ARCHIVE`: the workspace of a backup, into an empty database and data folder."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from aios import backup


class Command(BaseCommand):
    help = (
        "Restore a `manage.py backup` archive into an empty database and data folder (a fresh AIOS_DATA_DIR, "
        "or an empty database named by DATABASE_URL). Every checksum is verified before anything is written."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)
        parser.add_argument(
            "--verify-only", action="store_true", help="Only check the archive's checksums and manifest."
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        archive: Path = options["archive"].resolve()
        progress = not options["no_progress"]
        try:
            if options["verify_only"]:
                manifest = backup.backup_verify(path=archive, progress=progress)
                self.stdout.write(
                    f"{archive} is intact: {len(manifest['tables'])} tables, {len(manifest['files'])} files, "
                    f"written {manifest['created_at']}."
                )
                return
            result = backup.backup_restore(path=archive, progress=progress)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Restored {archive}: {result.tables} tables ({result.rows:,} rows, each table's content "
            f"checksum matches the backup) and {result.files} files, written {result.manifest['created_at']}."
        )
        self.stdout.write("Start the workspace (`make run`); it applies any newer migrations first.")
