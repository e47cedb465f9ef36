"""The intake reader: what it gives the agent, and the parts of the raw mail the import hands it in the
task's input (connectors.intake_hook), read as the reader once read the raw mail itself."""

from typing import Any

import pytest

from agents.intake import (
    IntakeInput,
    IntakeReader,
    MailRead,
    ReadInput,
    ServiceInfo,
    extract_rules,
)
from agents.kernel import AgentContext
from connectors.intake_hook import intake_submit
from connectors.mime import parse_message
from connectors.models import InboundMail
from connectors.services import mail_ingest
from core.models import Message
from core.scope import scope_for_message
from ledger.models import Task
from tests.agents.intake.helpers import SAMPLES


def read(workflow_input: dict[str, Any]) -> MailRead:
    scope = scope_for_message(message_pk=workflow_input["message_id"])
    context = AgentContext(
        task_id="", workflow="", step="read", attempt=1, mode="test", llm=None, scope=scope
    )
    return IntakeReader().run(context, ReadInput.model_validate(workflow_input)).output


def parts_of(raw: bytes) -> dict[str, Any]:
    """The parts the reader took from the raw mail before the import handed them over."""
    parsed = parse_message(raw)
    return {
        "new_text": parsed.new_text or parsed.text,
        "quoted_text": parsed.quoted_text,
        "is_auto_reply": parsed.is_auto_reply,
        "is_bounce": parsed.is_bounce,
        "is_calendar": parsed.is_calendar,
        "is_image_only": parsed.is_image_only,
        "headers": dict(parsed.headers),
        "date": parsed.date.isoformat() if parsed.date else None,
    }


def test_the_readers_mail_read_fits_the_agents_input():
    read = {
        "message_pk": 1,
        "from_email": "jonas@bergbakery.se",
        "from_name": "Jonas Berg",
        "subject": "Website",
        "date": "2026-11-02T09:14:00+01:00",
        "new_text": "We need a website.",
        "quoted_text": "",
        "is_auto_reply": False,
        "is_bounce": False,
        "services": [{"key": "website", "name": "Marketing website", "unit": "page", "currency": "EUR"}],
    }

    input = IntakeInput.model_validate(read)  # noqa: A001

    assert input.services == [ServiceInfo(key="website", name="Marketing website", currency="EUR")]
    assert extract_rules(input).services == ["website"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(path.name for path in SAMPLES.glob("*.eml")))
def test_the_reader_reads_the_parts_in_the_input_as_it_read_the_raw_mail(
    name, django_capture_on_commit_callbacks
):
    raw = (SAMPLES / name).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        inbound = mail_ingest(raw=raw, path="file", source="test")
    task = Task.objects.get(workflow="intake.process", input__message_id=inbound.message.pk)

    assert task.input == {"message_id": inbound.message.pk, "mail": parts_of(raw)}
    from_input = read(task.input)
    from_store = read({"message_id": inbound.message.pk})
    assert from_input == from_store.model_copy(update=parts_of(raw))


@pytest.mark.django_db
def test_without_the_raw_mail_the_reader_reads_the_stored_body():
    inbound = mail_ingest(raw=(SAMPLES / "01-new-website.eml").read_bytes(), path="file", source="test")
    InboundMail.objects.filter(pk=inbound.pk).update(raw=b"")
    message = Message.objects.get(pk=inbound.message.pk)

    intake_submit(message_pk=message.pk)

    task = Task.objects.get(workflow="intake.process", input__message_id=message.pk)
    assert task.input == {"message_id": message.pk, "mail": None}
    result = read(task.input)
    assert (result.new_text, result.quoted_text, result.headers) == (message.body_text, "", {})
    assert (result.is_auto_reply, result.is_bounce) == (False, False)
    assert result.date == (message.sent_at.isoformat() if message.sent_at else None)
