"""Messages and stored files in the back office."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core import services
from core.models import Artifact, Message
from tests.core.admin.pages import url


@pytest.mark.django_db
def test_a_new_message_is_recorded_once_per_message_id(operator_client, operator):
    conversation = services.conversation_create(by=operator, subject="Website")
    base = {
        "conversation": conversation.pk,
        "direction": "inbound",
        "channel": "email",
        "from_email": "Jonas@Berg.SE",
        "to": "me@studio.se, Other@Studio.se",
        "subject": "Hello",
        "sent_at_0": "2026-11-02",
        "sent_at_1": "10:00:00",
    }

    created = operator_client.post(url(Message, "add"), {**base, "message_id": "abc@berg.se"})
    assert created.status_code == 302
    message = Message.objects.get()
    assert (message.from_email, message.to) == ("jonas@berg.se", ["me@studio.se", "other@studio.se"])
    assert message.history.get().history_user == operator
    conversation.refresh_from_db()
    assert conversation.last_message_at == message.sent_at

    repeat = operator_client.post(url(Message, "add"), {**base, "message_id": "<abc@berg.se>"})
    assert repeat.status_code == 200
    assert "already stored" in repeat.context["adminform"].form.errors["message_id"][0]
    missing = operator_client.post(url(Message, "add"), {**base, "message_id": ""})
    assert missing.context["adminform"].form.errors["message_id"] == ["An email message needs a Message-ID."]
    assert Message.objects.count() == 1


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
