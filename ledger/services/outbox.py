"""Delivering a task's outbox emails at the end of its attempt (one email: ledger.outbox)."""

from __future__ import annotations

from ledger.models import OutboxEmail, Task, TaskEvent
from ledger.outbox import Delivery, delivery_refused_for_good, outbox_deliver
from ledger.services.claim import Claim
from ledger.services.delivery import outbox_notice_refresh
from ledger.services.errors import ClaimLost, DeliveryFailed, OutboxPending
from ledger.services.events import task_event
from ledger.services.mail_record import sent_mail_record


def outbox_deliver_for_task(*, claim: Claim) -> None:
    """Send what the task's committed actions put in the outbox; fenced by the claim between emails.

    A failed send stops the round (the next email would meet the same server) and raises DeliveryFailed:
    the conductor then waits as the delivery policy says instead of spending the task's attempts."""
    for email_id in (
        OutboxEmail.objects.filter(action__task=claim.task, status=OutboxEmail.Status.PENDING)
        .order_by("id")
        .values_list("pk", flat=True)
    ):
        claim.task.refresh_from_db(fields=["status", "claim_token"])
        if claim.task.claim_token != claim.token or claim.task.status != Task.Status.RUNNING:
            raise ClaimLost(f"task {claim.task.pk} is no longer ours")
        try:
            delivered = outbox_deliver(email_id=email_id)
        except Exception as exc:  # noqa: BLE001 - every SMTP or network error is a delivery failure
            raise DeliveryFailed(
                email_id=email_id, error=exc, for_good=delivery_refused_for_good(exc)
            ) from exc
        if delivered is Delivery.NOTHING:
            continue
        task_event(
            task=claim.task,
            kind=TaskEvent.Kind.DELIVERED,
            data={"outbox_email": email_id, "uncertain_resend": delivered is Delivery.RESENT},
        )
    # A row skipped because another process holds it (a worker presumed dead, still sending) is not
    # known to be sent: the task must not succeed before it is, or a failed send would be lost.
    unsent = OutboxEmail.objects.filter(action__task=claim.task, status=OutboxEmail.Status.PENDING).count()
    if unsent:
        raise OutboxPending(f"{unsent} email(s) of this task are still being sent by another process")
    sent_mail_record(task=claim.task)
    outbox_notice_refresh()
