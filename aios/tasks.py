"""django-q2 entry points of the composition root (thin: each calls one function)."""

from __future__ import annotations

from django.conf import settings

from aios import backup


def backup_scheduled() -> str:
    """The daily backup: one archive in AIOS_BACKUP_DIR, then all but the newest AIOS_BACKUP_KEEP deleted.

    A failure raises, so django-q2 records it as a failed task (Background work → Failed tasks)."""
    result = backup.backup_create(keep=settings.AIOS_BACKUP_KEEP)
    return (
        f"{result.path.name}: {result.size} bytes, {result.rows} rows, {result.files} files, "
        f"{len(result.pruned)} pruned"
    )
