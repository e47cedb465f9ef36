"""The export archive: one zip of JSON files (records, their history, the work about them) and the files."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


def rows_of(queryset: models.QuerySet, *, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Rows as Django's serializer gives them ({model, pk, fields}); vectors and derived columns left out."""
    model = queryset.model
    names = [
        f.name
        for f in model._meta.concrete_fields
        if f.name not in exclude
        and not f.primary_key
        and f.get_internal_type() not in ("VectorField", "BinaryField")
        and not isinstance(f, models.GeneratedField)
    ]
    return serializers.serialize("python", queryset.order_by("pk"), fields=names)


class ExportBundle:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.contents: dict[str, dict[str, Any]] = {}

    def _write(self, name: str, data: bytes) -> None:
        name = PurePosixPath(name).as_posix()
        self.zip.writestr(name, data)
        self.contents[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    def add_json(self, name: str, value: Any) -> None:
        self._write(name, json.dumps(value, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode())

    def add_rows(self, section: str, label: str, rows: list[dict[str, Any]]) -> int:
        if rows:
            self.add_json(f"{section}/{label}.json", rows)
        return len(rows)

    def add_file(self, name: str, data: bytes) -> None:
        self._write(name, data)

    def close(self, manifest: dict[str, Any]) -> None:
        manifest = {**manifest, "contents": self.contents}
        self.zip.writestr("manifest.json", json.dumps(manifest, cls=DjangoJSONEncoder, indent=2))
        self.zip.close()
