"""What happens to a newly imported inbound message: it is handed to the intake workflow as a ledger task.

Called by `connectors.services` after the import committed. The workflow ("intake.process") is declared in
agents/; until it is registered, imported mail simply waits as canonical messages.
"""

from __future__ import annotations

from agents import kernel
from core import selectors as core_selectors
from core.models import Message
from ledger import services as ledger_services

INTAKE_WORKFLOW = "intake.process"
REQUESTED_BY = "connector:email"


def intake_submit(*, message_pk: int) -> None:
    """Submit the intake task of one inbound message; its Message-ID is the key, so a repeat is a no-op."""
    try:
        kernel.workflow_get(INTAKE_WORKFLOW)
    except kernel.RegistryError:
        return
    try:
        message = core_selectors.message_for_intake(message_pk=message_pk)
    except Message.DoesNotExist:
        return
    ledger_services.task_submit(
        workflow=INTAKE_WORKFLOW,
        input={"message_id": message.pk},
        idempotency_key=f"intake:{message.message_id}",
        requested_by=REQUESTED_BY,
    )
