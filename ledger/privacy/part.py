"""The ledger's part of a client's data: the work about the client — tasks and their timelines, the actions
agents proposed and the operator's decisions, emails in the outbox, LLM calls and cached answers.

A task is about the client when its input or one of its actions names the client, one of the client's
messages or records (memory capture), or writes to one of the client's addresses; when it recalled the
client's memory; and when its parent task is about the client. Erasing cancels unfinished work about the
client and blanks the text of the rest; what remains says that work happened (workflow, status, times,
costs, decisions), not what it said. The timeline is append-only: erasing is the one change its guard lets
through (migration 0006), and only to the text of an event.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat

from agents.models import LLMCacheEntry
from core.privacy import ClientDataPart, ClientScope
from core.privacy.bundle import ExportBundle, rows_of
from ledger.models import Action, ApprovalRequest, LLMCall, OutboxEmail, Task, TaskEvent
from ledger.services.failures import CANCELLABLE, task_cancel

# The workflows that export or erase a client name only its id; they are the record of the request itself.
PRIVACY_WORKFLOWS = ("client.export", "client.erase")
ERASED = {"erased": True}
ERASED_TEXT = "[erased]"


ATTACHMENTS = OutboxEmail.attachments.through


def _by_source(scope: ClientScope, prefix: str) -> Q:
    by_label: dict[str, list[int]] = {}
    for label, pk in scope.sources():
        by_label.setdefault(label, []).append(pk)
    condition = Q(pk__in=[])
    for label, pks in by_label.items():
        condition |= Q(**{f"{prefix}__source": label, f"{prefix}__id__in": pks})
    return condition


def _to_any(scope: ClientScope, field: str) -> Q:
    condition = Q(pk__in=[])
    for address in scope.addresses:
        condition |= Q(**{f"{field}__to__contains": [address]}) | Q(**{f"{field}__cc__contains": [address]})
    return condition


def tasks_about(scope: ClientScope) -> list[Any]:
    """Ids of the tasks about the client (see the module's docstring)."""
    direct = Task.objects.filter(
        Q(input__client_id=scope.pk)
        | Q(input__message_id__in=scope.messages)
        | _by_source(scope, "input")
        | Q(actions__payload__client_id=scope.pk)
        | Q(actions__payload__message_id__in=scope.messages)
        | _by_source(scope, "actions__payload")
        | _to_any(scope, "actions__payload")
        | Q(actions__outbox_email__in=OutboxEmail.objects.filter(_to_outbox(scope)))
        | Q(memory_recalls__in=scope.memory_recalls)
        | Q(memory_recalls__client_id=scope.pk)
    )
    found = set(direct.values_list("pk", flat=True))
    while True:
        children = set(
            Task.objects.filter(parent__in=found).exclude(pk__in=found).values_list("pk", flat=True)
        )
        if not children:
            break
        found |= children
    return sorted(
        Task.objects.filter(pk__in=found).exclude(workflow__in=PRIVACY_WORKFLOWS).values_list("pk", flat=True)
    )


def _to_outbox(scope: ClientScope) -> Q:
    condition = Q(pk__in=[])
    for address in scope.addresses:
        condition |= Q(to__contains=[address]) | Q(cc__contains=[address])
    return condition


def inventory(scope: ClientScope) -> dict[str, int]:
    ids = tasks_about(scope)
    counts = {
        "tasks": len(ids),
        "actions": Action.objects.filter(task__in=ids).count(),
        "outbox emails": OutboxEmail.objects.filter(action__task__in=ids).count(),
        "LLM calls": LLMCall.objects.filter(task__in=ids).count(),
    }
    return {what: count for what, count in counts.items() if count}


def export(scope: ClientScope, bundle: ExportBundle) -> dict[str, int]:
    ids = tasks_about(scope)
    counts = {}
    for model, queryset in (
        (Task, Task.objects.filter(pk__in=ids)),
        (TaskEvent, TaskEvent.objects.filter(task__in=ids)),
        (Action, Action.objects.filter(task__in=ids)),
        (ApprovalRequest, ApprovalRequest.objects.filter(task__in=ids)),
        (OutboxEmail, OutboxEmail.objects.filter(action__task__in=ids)),
        (ATTACHMENTS, ATTACHMENTS.objects.filter(outboxemail__action__task__in=ids)),
        (LLMCall, LLMCall.objects.filter(task__in=ids)),
    ):
        counts[model._meta.label] = bundle.add_rows("work", model._meta.label, rows_of(queryset))
    return {label: count for label, count in counts.items() if count}


def erase(scope: ClientScope, *, by: Any) -> dict[str, int]:
    ids = tasks_about(scope)
    running = Task.objects.filter(pk__in=ids, status=Task.Status.RUNNING).count()
    if running:
        raise ValidationError(
            f"{running} task(s) about this client are running right now; the erase is tried again after them."
        )
    cancelled = 0
    for task in Task.objects.filter(pk__in=ids, status__in=CANCELLABLE):
        task_cancel(task=task, by=by, reason="the client's personal data was erased")
        cancelled += 1
    prompts = list(LLMCall.objects.filter(task__in=ids).values_list("prompt_hash", flat=True))
    with connection.cursor() as cursor:
        # The one change the append-only timeline lets through (ledger migration 0006), for this transaction.
        cursor.execute("SET LOCAL aios.erasing = 'on'")
    counts = {
        "tasks cancelled": cancelled,
        # Keys are made of what triggered the task (a Message-ID names the sender's domain); an erased task
        # keeps a unique key of its own, so the same trigger arriving again is new work.
        "tasks": Task.objects.filter(pk__in=ids).update(
            input=ERASED,
            output=ERASED,
            last_error="",
            last_traceback="",
            idempotency_key=Concat(Value("erased:"), Cast("pk", CharField())),
        ),
        "timeline events": TaskEvent.objects.filter(task__in=ids).update(message="", data=ERASED),
        "actions": Action.objects.filter(task__in=ids).update(
            payload=ERASED, summary=ERASED_TEXT, source={}, inferred=[], result=ERASED, error=""
        ),
        "approval requests": ApprovalRequest.objects.filter(task__in=ids).update(
            edit_diff={}, reject_reason=""
        ),
        # Mail not yet delivered is not delivered any more: its recipients and text are gone.
        "outbox emails unsent": OutboxEmail.objects.filter(
            action__task__in=ids, status=OutboxEmail.Status.PENDING
        ).update(status=OutboxEmail.Status.FAILED),
        "outbox emails": OutboxEmail.objects.filter(action__task__in=ids).update(
            to=[],
            cc=[],
            subject=ERASED_TEXT,
            body_text=ERASED_TEXT,
            in_reply_to="",
            references="",
            last_error="",
        ),
        # The email is gone, so is its link to the file it carried; the file (an issued invoice's PDF)
        # stays with its record, erased or kept as the core's part decides.
        "outbox attachments": ATTACHMENTS.objects.filter(outboxemail__action__task__in=ids).delete()[0],
        "LLM calls": LLMCall.objects.filter(task__in=ids).update(request={}, response_text="", error=""),
        "cached LLM answers": LLMCacheEntry.objects.filter(key__in=prompts).delete()[0],
    }
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL aios.erasing = 'off'")
    return counts


PART = ClientDataPart(
    name="ledger",
    export=export,
    erase=erase,
    inventory=inventory,
    # No ledger table has a foreign key to a client (the work is found as above) but the emails' links to the
    # files they carried, which are a client's.
    models=lambda: (ATTACHMENTS,),
    order=20,
)
