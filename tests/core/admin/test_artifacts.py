"""Stored files in the back office."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import Artifact
from tests.core.admin.pages import url


@pytest.mark.django_db
def test_an_uploaded_file_is_stored_once_by_content(operator_client, operator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = b"%PDF-1.4 brief"

    def upload():
        return operator_client.post(
            url(Artifact, "add"),
            {
                "file": SimpleUploadedFile("brief.pdf", content, content_type="application/pdf"),
                "extracted_text": "",
            },
        )

    assert upload().status_code == 302
    artifact = Artifact.objects.get()
    assert (artifact.sha256, artifact.size, artifact.mime_type) == (
        hashlib.sha256(content).hexdigest(),
        len(content),
        "application/pdf",
    )
    again = upload()
    assert again.status_code == 200
    assert "already stored" in again.context["adminform"].form.errors["file"][0]
    assert Artifact.objects.count() == 1
