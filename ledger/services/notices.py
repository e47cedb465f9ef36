"""Telling the operator: persistent notices in the back office, and the budget email.

A notice is a row (`ledger.models.Notice`) shown on the admin index and the home page until it is
resolved — by the condition ending (mail delivered again) or by the operator. It needs no mail server:
the notice that says mail cannot be delivered must not travel by mail.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F

from core import clock
from core import selectors as core_selectors
from ledger.models import Notice, Task
from ledger.policy import month_start
from ledger.services.submit import task_submit


def notice_raise(
    *,
    key: str,
    title: str,
    body: str = "",
    level: str = Notice.Level.WARNING,
    link: str = "",
    task: Task | None = None,
) -> Notice:
    """Show (or update) the notice named `key`. A resolved one opens again with a new start time."""
    now = clock.now()
    values = {"title": title[:300], "body": body, "level": level, "link": link[:500], "task": task}
    for _ in range(2):  # a concurrent first raise of the same key loses the insert and updates instead
        try:
            with transaction.atomic():
                notice = Notice.objects.select_for_update().filter(key=key).first()
                if notice is None:
                    return Notice.objects.create(key=key, raised_at=now, updated_at=now, **values)
                reopened = notice.resolved_at is not None
                for name, value in values.items():
                    setattr(notice, name, value)
                notice.updated_at = now
                if reopened:
                    notice.raised_at, notice.occurrences = now, 1
                    notice.resolved_at, notice.resolved_by, notice.resolution = None, None, ""
                else:
                    notice.occurrences = F("occurrences") + 1
                notice.save()
                notice.refresh_from_db(fields=["occurrences"])
                return notice
        except IntegrityError:
            continue
    raise RuntimeError(f"notice {key!r} could not be raised")


def notice_resolve(*, key: str, resolution: str, by: AbstractBaseUser | None = None) -> bool:
    """The condition is over (or the operator dealt with it); True when an open notice was closed."""
    return bool(
        Notice.objects.filter(key=key, resolved_at__isnull=True).update(
            resolved_at=clock.now(), resolved_by=by, resolution=resolution[:300], updated_at=clock.now()
        )
    )


def notice_dismiss(*, notice: Notice, by: AbstractBaseUser) -> Notice:
    """The operator has seen it and closes it by hand; raised again if the condition comes back."""
    notice_resolve(key=notice.key, resolution=f"dismissed by {by.get_username()}", by=by)
    notice.refresh_from_db()
    return notice


def notices_resolve_for_task(*, task: Task, resolution: str, by: AbstractBaseUser | None = None) -> None:
    """The operator retried or discarded the task its notices are about."""
    Notice.objects.filter(task=task, resolved_at__isnull=True).update(
        resolved_at=clock.now(), resolved_by=by, resolution=resolution[:300], updated_at=clock.now()
    )


def budget_notice_submit(*, reason: str, budgets: list[str]) -> Task | None:
    """Tell the operator (once a month per reached budget) that work is waiting for the budget."""
    month = month_start().strftime("%Y-%m")
    names = budgets or ["LLM budget"]
    body = (
        f"{reason}\n\nNon-critical agent work is deferred and retried every "
        f"{settings.AIOS_BUDGET_DEFER_MINUTES} minutes; critical work runs on a cheaper tier. "
        "Raise the cap in the back office (Policies) to let it run now."
    )
    subject = f"LLM budget reached: {', '.join(names)}"
    notice_raise(key=f"budget:{month}:{','.join(names)}"[:200], title=subject, body=body)

    workspace = core_selectors.workspace_get()
    if workspace is None or not workspace.operator_email:
        return None
    return task_submit(
        workflow="notice.operator",
        input={"subject": subject, "body": body},
        idempotency_key=f"notice:budget:{month}:{','.join(names)}"[:255],
        requested_by="system:budget",
    )
