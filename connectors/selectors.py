"""Reads of the connectors' records for agents and pages."""

from __future__ import annotations

from connectors.models import InboundMail


def raw_for_message(*, message_pk: int) -> bytes | None:
    """The raw bytes of the mail a stored message came from (the first path it arrived by), if kept."""
    raw = (
        InboundMail.objects.filter(message__pk=message_pk)
        .exclude(raw=b"")
        .order_by("received_at", "pk")
        .values_list("raw", flat=True)
        .first()
    )
    return bytes(raw) if raw is not None else None
