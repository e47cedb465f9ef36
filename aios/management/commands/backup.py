"""`manage.py backup`: one archive of the whole workspace (database and data folder), checksummed."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from aios import backup


class Command(BaseCommand):
    help = (
        "Write the database (pg_dump) and the files of the data folder to one tar.gz archive with a manifest "
        "and SHA-256 checksums. Default folder: AIOS_BACKUP_DIR."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, help="Folder for the archive (default: AIOS_BACKUP_DIR).")
        parser.add_argument(
            "--keep",
            type=int,
            help="Afterwards delete all but the newest KEEP archives of that folder (default: keep all).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        try:
            result = backup.backup_create(
                destination=options["dir"], progress=not options["no_progress"], keep=options["keep"]
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Backup written: {result.path} ({result.size:,} bytes; {result.tables} tables, "
            f"{result.rows:,} rows, {result.files} files)"
        )
        for path in result.pruned:
            self.stdout.write(f"Deleted old backup: {path}")
        if settings.DATA_DIR in result.path.parents:
            self.stdout.write(
                "The archive is inside the data folder: copy it to another disk or machine too."
            )
