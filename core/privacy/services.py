"""A client's data, handed back (`client_export`) or erased (`client_erase`).

Both are called by the ledger's committers once the operator approved (`client.export`, `client.erase`);
every app's part (core.privacy.parts) contributes what it holds.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from core import clock
from core.models import Client
from core.privacy.bundle import ExportBundle
from core.privacy.parts import client_data_parts
from core.privacy.scope import ClientScope, client_scope

EXPORT_FORMAT = "aios-client-export"
EXPORT_FORMAT_VERSION = 1


@dataclass
class ExportResult:
    path: Path
    size: int
    counts: dict[str, dict[str, int]]


def client_exports_dir(*, client_id: int) -> Path:
    """Where the exports of one client are written (the erase deletes them too)."""
    return Path(settings.DATA_DIR) / "exports" / f"client-{client_id}"


def client_data_inventory(*, client: Client) -> dict[str, dict[str, int]]:
    """What the workspace holds about the client, per part: shown to the operator before approving."""
    scope = client_scope(client=client)
    return {part.name: part.inventory(scope) for part in client_data_parts()}


def client_export(*, client: Client, name: str) -> ExportResult:
    """Everything about one client as a zip of JSON and files, under the client's exports folder.

    Read in one REPEATABLE READ snapshot, so the parts agree with each other even while work runs."""
    folder = client_exports_dir(client_id=client.pk)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    partial = path.with_name(path.name + ".partial")
    counts: dict[str, dict[str, int]] = {}
    try:
        with transaction.atomic():
            bundle = ExportBundle(partial)
            scope = client_scope(client=client)
            for part in client_data_parts():
                counts[part.name] = part.export(scope, bundle)
            bundle.close(
                {
                    "format": EXPORT_FORMAT,
                    "format_version": EXPORT_FORMAT_VERSION,
                    "client": {"id": client.pk, "name": client.name},
                    "exported_at": clock.now().isoformat(),
                    "counts": counts,
                }
            )
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ExportResult(path=path, size=path.stat().st_size, counts=counts)


@transaction.atomic
def client_erase(*, client: Client, by: Any) -> dict[str, Any]:
    """Remove or anonymise the client's personal data everywhere, keeping what the law requires.

    One transaction: every part erases or nothing does. Earlier exports of the client (copies of the same
    data) are deleted once the transaction commits."""
    locked = Client.objects.select_for_update().get(pk=client.pk)
    scope: ClientScope = client_scope(client=locked)
    counts = {part.name: part.erase(scope, by=by) for part in client_data_parts()}
    folder = client_exports_dir(client_id=locked.pk)
    transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
    return counts
