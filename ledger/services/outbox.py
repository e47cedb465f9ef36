"""Delivering a task's outbox emails at the end of its attempt (one email: ledger.outbox)."""

from __future__ import annotations

from ledger.models import OutboxEmail, Task, TaskEvent
from ledger.outbox import outbox_deliver
from ledger.services.claim import Claim
from ledger.services.errors import ClaimLost, OutboxPending
from ledger.services.events import task_event
from ledger.services.mail_record import sent_mail_record


def outbox_deliver_for_task(*, claim: Claim) -> None:
    """Send what the task's committed actions put in the outbox; fenced by the claim between emails."""
    for email_id in (
        OutboxEmail.objects.filter(action__task=claim.task, status=OutboxEmail.Status.PENDING)
        .order_by("id")
        .values_list("pk", flat=True)
    ):
        claim.task.refresh_from_db(fields=["status", "claim_token"])
        if claim.task.claim_token != claim.token or claim.task.status != Task.Status.RUNNING:
            raise ClaimLost(f"task {claim.task.pk} is no longer ours")
        if outbox_deliver(email_id=email_id):
            task_event(task=claim.task, kind=TaskEvent.Kind.DELIVERED, data={"outbox_email": email_id})
    # A row skipped because another process holds it (a worker presumed dead, still sending) is not
    # known to be sent: the task must not succeed before it is, or a failed send would be lost.
    unsent = OutboxEmail.objects.filter(action__task=claim.task, status=OutboxEmail.Status.PENDING).count()
    if unsent:
        raise OutboxPending(f"{unsent} email(s) of this task are still being sent by another process")
    sent_mail_record(task=claim.task)
