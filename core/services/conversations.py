"""Conversations."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import Conversation
from core.services._common import User, _apply, _save

CONVERSATION_FIELDS = ("client", "project", "subject", "channel", "last_message_at")


@transaction.atomic
def conversation_create(*, by: User, **data: Any) -> Conversation:
    conversation = Conversation()
    _apply(conversation, data, allowed=CONVERSATION_FIELDS)
    return _save(conversation, by=by)


@transaction.atomic
def conversation_update(*, conversation: Conversation, by: User, **data: Any) -> Conversation:
    changed = _apply(conversation, data, allowed=CONVERSATION_FIELDS)
    return _save(conversation, by=by, update_fields=changed)
