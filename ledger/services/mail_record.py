"""Sent mail in the record: an email that belongs to a conversation becomes its outbound message, and the
record that sent it (a proposal) says "sent" from the moment of delivery."""

from __future__ import annotations

from email.utils import parseaddr

from django.db import transaction

from core import services as core_services
from core.models import Conversation
from ledger import commit
from ledger.models import OutboxEmail, Task


def sent_mail_record(*, task: Task) -> None:
    """A sent email that belongs to a conversation becomes its outbound message (once: by Message-ID),
    so the thread shows the reply and the recipient counts as written to; its action's record learns that
    it was delivered. Idempotent: a worker that died after a delivery does this again on the retry."""
    for email in OutboxEmail.objects.filter(action__task=task, status=OutboxEmail.Status.SENT).select_related(
        "action"
    ):
        with transaction.atomic():
            commit.action_delivered(action=email.action, email=email)
        conversation_id = (email.action.payload or {}).get("conversation_id")
        conversation = Conversation.objects.filter(pk=conversation_id).first() if conversation_id else None
        if conversation is None:
            continue
        with transaction.atomic():
            core_services.message_record(
                conversation=conversation,
                by=None,
                direction="outbound",
                message_id=email.message_id,
                from_email=parseaddr(email.from_email)[1],
                to=email.to,
                cc=email.cc,
                subject=email.subject,
                body_text=email.body_text,
                in_reply_to=email.in_reply_to,
                references=email.references,
                sent_at=email.sent_at,
            )
