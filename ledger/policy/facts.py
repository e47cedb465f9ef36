"""The facts about an action that approval policies and hard floors look at."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from core import selectors as core_selectors
from ledger import commit
from ledger.commit import EXTERNAL, RECORD
from ledger.models import Action, OutboxEmail, Task

# Workflows the operator starts in person from a page (reversal from the task page): the request is the
# consent, so their record changes commit without a second question (hard floors still apply).
OPERATOR_WORKFLOWS = frozenset({"record.revert", "client.export", "client.erase"})


@dataclass
class Facts:
    kind: str
    effect: str
    agent: str
    amount: Decimal | None
    currency: str
    confidence: float | None
    recipients: list[str]
    new_recipients: list[str]
    client_status: str | None
    untrusted: bool
    workflow: str
    operator_request: bool


def _recipients(action: Action) -> list[str]:
    """Who an email-carrying action (email.send, proposal.send, …) writes to."""
    if commit.committer_effect(action.kind) != EXTERNAL:
        return []
    payload = action.payload or {}
    addresses = [*payload.get("to", []), *payload.get("cc", [])]
    return sorted({str(address).strip().lower() for address in addresses if str(address).strip()})


def task_untrusted(task: Task) -> bool:
    """Work started by a connector (inbound mail, files, webhooks), directly or through parent tasks."""
    seen = 0
    current: Task | None = task
    while current is not None and seen < 20:
        if current.requested_by_kind == Task.Requester.CONNECTOR:
            return True
        current = current.parent
        seen += 1
    return False


def addresses_known(*, addresses: list[str]) -> set[str]:
    """Addresses the workspace has written to: outbound messages, emails its outbox sent, the operator."""
    wanted = {address.lower() for address in addresses}
    if not wanted:
        return set()
    known = core_selectors.addresses_written_to(addresses=sorted(wanted))
    known |= wanted & {settings.DEFAULT_FROM_EMAIL.lower()}
    sent = OutboxEmail.objects.filter(status=OutboxEmail.Status.SENT)
    known |= core_selectors.addresses_among_recipients(rows=sent, addresses=sorted(wanted - known))
    return known & wanted


def operator_addresses() -> set[str]:
    workspace = core_selectors.workspace_get()
    return {workspace.operator_email.lower()} if workspace and workspace.operator_email else set()


def action_facts(*, action: Action, task: Task) -> Facts:
    recipients = _recipients(action)
    known = addresses_known(addresses=recipients)
    client_id = (action.payload or {}).get("client_id")
    client_status = core_selectors.client_status_for(client_id=client_id, addresses=recipients)
    return Facts(
        kind=action.kind,
        effect=commit.committer_effect(action.kind) or RECORD,
        agent=action.agent,
        amount=action.amount,
        currency=action.currency,
        confidence=action.confidence,
        recipients=recipients,
        new_recipients=[address for address in recipients if address not in known],
        client_status=client_status,
        untrusted=task_untrusted(task) or bool((action.source or {}).get("untrusted")),
        workflow=task.workflow,
        operator_request=task.workflow in OPERATOR_WORKFLOWS
        and task.requested_by_kind == Task.Requester.USER
        and task.requested_by_user is not None
        and task.requested_by_user.is_staff,
    )
