"""Stored files in the back office; a file is stored once, never edited."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from core import services
from core.admin.base import ReadOnlyServiceAdmin
from core.models import Artifact


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyServiceAdmin):
    create_fields = ("file", "client", "project", "extracted_text")
    info_fields = ("filename", "mime_type", "size", "sha256", "created_at")
    list_display = ("filename", "mime_type", "file_size", "client", "project", "created_at")
    list_select_related = ("client", "project")
    list_filter = ("mime_type",)
    search_fields = ("filename", "sha256")
    date_hierarchy = "created_at"
    autocomplete_fields = ("client", "project")

    @admin.display(description="Size", ordering="size")
    def file_size(self, obj: Artifact) -> str:
        return filesizeformat(obj.size)

    def create(self, request, form):
        upload = form.cleaned_data["file"]
        artifact, created = services.artifact_store(
            by=request.user,
            content=upload.read(),
            filename=upload.name,
            mime_type=upload.content_type or "application/octet-stream",
            client=form.cleaned_data["client"],
            project=form.cleaned_data["project"],
            extracted_text=form.cleaned_data["extracted_text"],
        )
        if not created:
            raise ValidationError({"file": f"This file is already stored, as “{artifact}”."})
        return artifact
