"""Asking for an invoice to be sent: one `invoice.send` task, whoever asks (the operator from the back
office, the phone or the API; an accepted proposal for its first invoice). The task writes the email and
the ledger asks before anything leaves; a second ask while one is under way gets that same task."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from core.models import Invoice
from ledger.models import Task
from ledger.services.submit import task_submit_or_get

_UNDER_WAY = (Task.Status.QUEUED, Task.Status.RUNNING, Task.Status.RETRYING, Task.Status.WAITING_APPROVAL)


def invoice_send_request(*, invoice: Invoice, requested_by: Any) -> Task:
    """The task that sends `invoice` (issuing it first if it is a draft): the one under way, else a new
    one — the first send, or another copy of an invoice that went out already."""
    if invoice.status == Invoice.Status.VOID:
        raise ValidationError({"status": f"Invoice {invoice.number} is void: it is not sent."})
    if not invoice.lines.exists():
        raise ValidationError({"lines": "An invoice needs at least one line before it is sent."})
    key = f"invoice.send:{invoice.pk}"
    earlier = list(Task.objects.filter(workflow="invoice.send", idempotency_key__startswith=key))
    under_way = [task for task in earlier if task.status in _UNDER_WAY]
    if under_way:
        return under_way[0]
    if earlier:
        key = f"{key}:copy:{len(earlier)}"
    task, _ = task_submit_or_get(
        workflow="invoice.send",
        input={"client_id": invoice.client_id, "invoice_id": invoice.pk},
        idempotency_key=key,
        requested_by=requested_by,
    )
    return task
