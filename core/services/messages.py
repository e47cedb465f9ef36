"""Messages, stored once per Message-ID."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.memory.capture import memory_capture_request
from core.models import Conversation, Message
from core.services._common import User, _apply, _save, email_normalise


def message_id_normalise(value: str | None) -> str | None:
    """`<abc@host>` and ` abc@host ` are the same Message-ID; keep it without brackets or blanks."""
    cleaned = (value or "").strip().strip("<>").strip()
    return cleaned or None


# In the order the back office shows them.
MESSAGE_FIELDS = (
    "direction",
    "channel",
    "message_id",
    "in_reply_to",
    "references",
    "from_email",
    "from_name",
    "to",
    "cc",
    "subject",
    "sent_at",
    "body_text",
    "body_html",
)


@transaction.atomic
def message_record(*, conversation: Conversation, by: User, **data: Any) -> tuple[Message, bool]:
    """Store a message once per Message-ID: returns (message, created). A repeat is not stored again."""
    message_id = message_id_normalise(data.pop("message_id", None))
    if message_id:
        existing = Message.objects.filter(message_id=message_id).first()
        if existing:
            return existing, False
    message = Message(conversation=conversation, message_id=message_id)
    if "from_email" in data:
        data["from_email"] = email_normalise(data["from_email"], field="from_email")
    for field in ("to", "cc"):
        if field in data:
            data[field] = [email_normalise(address, field=field) for address in data[field] or []]
    _apply(message, data, allowed=MESSAGE_FIELDS)
    if message.channel == "email" and not message.message_id:
        raise ValidationError({"message_id": "An email message needs a Message-ID."})
    # Two deliveries of one mail may race; the unique index decides and the loser reads the winner.
    try:
        with transaction.atomic():
            _save(message, by=by)
    except IntegrityError:
        existing = (
            Message.objects.filter(message_id=message.message_id).first() if message.message_id else None
        )
        if existing is None:
            raise
        return existing, False
    memory_capture_request(record=message)
    stamp = message.sent_at or message.created_at
    if conversation.last_message_at is None or stamp > conversation.last_message_at:
        conversation.last_message_at = stamp
        _save(conversation, by=by, update_fields=["last_message_at"])
    return message, True
