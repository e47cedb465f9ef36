"""Policies and history the ledger tests need: an approval policy that lets kinds commit, and addresses
the workspace has written to before (so the new-recipient hard floor does not ask)."""

import uuid

from core.models import Conversation, Message
from ledger import policy


def allow(*kinds: str, name: str | None = None, **conditions):
    """An enabled approval policy letting `kinds` commit without the operator."""
    return policy.policy_save(
        by=None,
        name=name or f"test: allow {', '.join(kinds)}",
        kind="approval",
        params={"effect": "commit", "action_kinds": list(kinds), **conditions},
    )


def written_to(*addresses: str) -> Message:
    """One outbound message to `addresses` (stored directly: no memory capture task is queued)."""
    conversation = Conversation.objects.create(subject="Earlier correspondence")
    return Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        message_id=f"{uuid.uuid4()}@test.invalid",
        to=[address.lower() for address in addresses],
        subject="Earlier",
        body_text="An earlier email.",
    )
