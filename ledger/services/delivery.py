"""Mail the server did not take: wait and try again as the delivery policy says, or give up visibly.

The outbox stays exactly-once (ledger.outbox, ADR 0005); this is what happens around a failed try
(ADR 0014):
- a temporary failure (no connection, timeout, 4xx, a refused login) keeps the email pending and the task
  `retrying` at the next time the policy's backoff gives; the attempt is given back, so an outage of any
  length within the policy's window never exhausts the task's attempts;
- the window (default 3 days from the first failure) running out, or a permanent refusal of the email
  itself (5xx for every recipient or for its content), marks the email failed and dead-letters the task;
- both are notices in the back office (they do not need the mail server): one that lasts while mail waits
  and resolves itself once everything waiting is delivered, and one per email given up on.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core import clock
from ledger import policy
from ledger.models import Notice, OutboxEmail, Task, TaskEvent
from ledger.services.claim import Claim, attempt_end
from ledger.services.errors import ClaimLost, DeliveryFailed
from ledger.services.events import task_event
from ledger.services.failures import task_retry_or_dead_letter
from ledger.services.notices import notice_raise, notice_resolve

WAITING_NOTICE = "outbox:waiting"


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def attempt_delivery_wait(*, claim: Claim, exc: DeliveryFailed) -> str:
    """The attempt ends because an email was not delivered: retry later, or give up on that email."""
    now = clock.now()
    rules, source = policy.delivery_rules()
    with transaction.atomic():
        try:
            task = claim.fenced()
        except ClaimLost:
            return "claim-lost"
        email = OutboxEmail.objects.select_for_update().get(pk=exc.email_id)
        if email.status != OutboxEmail.Status.PENDING:
            # Another process delivered (or gave up on) it meanwhile: the next attempt finds out at once.
            task.attempts = max(task.attempts - 1, 0)
            task.next_attempt_at = now
            attempt_end(task=task, status=Task.Status.RETRYING, changed=("attempts", "next_attempt_at"))
            return "delivery-waiting"
        first_failed_at = email.first_failed_at or now
        gives_up_at = policy.delivery_gives_up_at(rules=rules, first_failed_at=first_failed_at)
        task.last_error = f"Delivery of {email.message_id} failed: {exc}"[:10000]
        if exc.for_good or now >= gives_up_at:
            _give_up(task=task, email=email, exc=exc, first_failed_at=first_failed_at, rules=rules)
            outbox_notice_refresh()
            return "dead"
        next_at = min(now + policy.delivery_backoff(rules=rules, failures=email.attempts), gives_up_at)
        email.next_attempt_at = next_at
        email.save(update_fields=["next_attempt_at"])
        # Waiting for the mail server is not the task failing: the attempt it used is given back.
        task.attempts = max(task.attempts - 1, 0)
        task.next_attempt_at = next_at
        attempt_end(
            task=task, status=Task.Status.RETRYING, changed=("attempts", "next_attempt_at", "last_error")
        )
        task_event(
            task=task,
            kind=TaskEvent.Kind.DELIVERY_FAILED,
            message=str(exc),
            data={
                "outbox_email": email.pk,
                "tries": email.attempts,
                "next_attempt_at": next_at.isoformat(),
                "gives_up_at": gives_up_at.isoformat(),
                "policy": source.ref if source is not None else {"name": "built-in delivery defaults"},
            },
        )
        outbox_notice_refresh()
    return "delivery-waiting"


def _give_up(
    *,
    task: Task,
    email: OutboxEmail,
    exc: DeliveryFailed,
    first_failed_at: datetime,
    rules: policy.DeliveryParams,
) -> None:
    email.status = OutboxEmail.Status.FAILED
    email.next_attempt_at = None
    email.save(update_fields=["status", "next_attempt_at"])
    if exc.for_good:
        why = f"the mail server refused it for good: {exc}"
    else:
        why = (
            f"it could not be delivered for {rules.retry_hours} hours (delivery policy), "
            f"since {_when(first_failed_at)}; last error: {exc}"
        )
    attempt_end(task=task, status=Task.Status.FAILED, changed=("last_error",))
    task_event(task=task, kind=TaskEvent.Kind.FAILED, message=f"Gave up on {email.message_id}: {why}")
    recipients = ", ".join([*email.to, *email.cc])
    notice_raise(
        key=f"outbox:failed:{email.pk}",
        level=Notice.Level.ERROR,
        title=f"Email not delivered: “{email.subject}” to {recipients}"[:300],
        body=(
            f"The workspace gave up on this email: {why}.\n"
            "Records waiting for it stay as they are (a proposal stays “sending”). Retry the task once the "
            "mail settings are right, or discard it and reach the recipient another way."
        ),
        link=reverse("ledger:task", args=[task.pk]),
        task=task,
    )
    task_retry_or_dead_letter(
        task=task, final=True, reason=f"gave up delivering an email: {why}", notice=False
    )


def outbox_notice_refresh() -> None:
    """One notice while any email waits for the mail server; resolved once none does."""
    waiting = OutboxEmail.objects.filter(status=OutboxEmail.Status.PENDING, first_failed_at__isnull=False)
    count = waiting.count()
    if not count:
        notice_resolve(key=WAITING_NOTICE, resolution="the mail server took every waiting email")
        return
    oldest = waiting.order_by("first_failed_at", "pk").first()
    # The one tried most recently (its next try is the furthest away) has the freshest error.
    recent = waiting.order_by("-next_attempt_at", "-pk").first()
    next_try = waiting.filter(next_attempt_at__isnull=False).order_by("next_attempt_at").first()
    rules, _ = policy.delivery_rules()
    body = (
        f"Not delivered since {_when(oldest.first_failed_at)}. "
        f"Last error: {recent.last_error or 'unknown'}.\n"
        + (
            f"The workspace tries again by itself (next try {_when(next_try.next_attempt_at)}); "
            if next_try
            else ""
        )
        + f"it gives up on an email {rules.retry_hours} hours after its first failure (delivery policy) and "
        "tells you here. Records whose email waits show “sending”, not “sent”."
    )
    notice_raise(
        key=WAITING_NOTICE,
        level=Notice.Level.WARNING,
        title=f"{count} email{'s' if count != 1 else ''} waiting for the mail server",
        body=body,
        link=reverse("admin:ledger_outboxemail_changelist") + "?status__exact=pending",
    )
