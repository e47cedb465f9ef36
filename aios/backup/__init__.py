"""Backups of the whole workspace (database and data folder) and restores into an empty one."""

from aios.backup.archive import BackupResult as BackupResult
from aios.backup.archive import RestoreResult as RestoreResult
from aios.backup.archive import backup_create as backup_create
from aios.backup.archive import backup_restore as backup_restore
from aios.backup.archive import backup_verify as backup_verify
from aios.backup.archive import backups_list as backups_list
from aios.backup.archive import backups_prune as backups_prune
from aios.backup.errors import BackupError as BackupError
