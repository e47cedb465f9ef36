"""`proposal.send`: a proposal recorded and its cover email sent together."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from pydantic import BaseModel, Field

from core import clock
from core import services as core_services
from core.models import Client
from ledger.commit.email import EmailPayload, outbox_email_for
from ledger.commit.registry import EXTERNAL, committer
from ledger.models import Action, Task


class ProposalLinePayload(BaseModel):
    service_key: str = ""
    description: str = Field(min_length=1, max_length=500)
    quantity: Decimal = Field(ge=0)
    unit: str = ""
    unit_price: Decimal = Field(ge=0)
    tax_rate: Decimal = Field(default=Decimal("0"), ge=0, le=100)


class ProposalSendPayload(EmailPayload):
    """A proposal and its cover email, sent together once the operator approves (one tap)."""

    client_id: int | None = None
    sender_name: str = ""
    company: str = ""
    title: str = Field(min_length=1, max_length=200)
    currency: str = Field(min_length=3, max_length=3)
    lines: list[ProposalLinePayload] = Field(min_length=1)
    valid_days: int = Field(default=30, ge=1, le=365)


@committer(
    "proposal.send",
    effect=EXTERNAL,
    payload=ProposalSendPayload,
    irreversible_note="A sent proposal cannot be unsent; withdraw it in the back office.",
)
def commit_proposal_send(action: Action, task: Task) -> dict[str, Any]:
    payload = ProposalSendPayload.model_validate(action.payload)
    client = Client.objects.filter(pk=payload.client_id).first() if payload.client_id else None
    created = False
    if client is None:
        client, created = core_services.client_for_sender(
            email=str(payload.to[0]), name=payload.sender_name, company=payload.company, by=None
        )
    proposal = core_services.proposal_send_record(
        client=client,
        by=None,
        title=payload.title,
        lines=[line.model_dump() for line in payload.lines],
        currency=payload.currency.upper(),
        cover_letter=payload.body,
        valid_until=timezone.localdate(clock.now()) + dt.timedelta(days=payload.valid_days),
    )
    email = outbox_email_for(action, payload)
    return {
        "proposal": proposal.pk,
        "total": str(proposal.total),
        "client": client.pk,
        "client_created": created,
        "outbox_email": email.pk,
        "message_id": email.message_id,
    }
