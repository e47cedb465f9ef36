"""Files, stored once per content."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction

from core.memory.capture import memory_capture_request
from core.models import Artifact, Client, Project
from core.services._common import User, _save


@transaction.atomic
def artifact_store(
    *,
    by: User,
    content: bytes,
    filename: str,
    mime_type: str = "application/octet-stream",
    client: Client | None = None,
    project: Project | None = None,
    extracted_text: str = "",
) -> tuple[Artifact, bool]:
    """Store a file once per content: returns (artifact, created)."""
    digest = hashlib.sha256(content).hexdigest()
    existing = Artifact.objects.filter(sha256=digest).first()
    if existing:
        return existing, False
    artifact = Artifact(
        filename=(filename or "file").strip()[:255],
        sha256=digest,
        mime_type=mime_type or "application/octet-stream",
        size=len(content),
        client=client,
        project=project,
        extracted_text=extracted_text,
    )
    artifact.file.save(f"{digest[:16]}-{artifact.filename}", ContentFile(content), save=False)
    _save(artifact, by=by)
    if artifact.extracted_text.strip():
        memory_capture_request(record=artifact)
    return artifact, True
