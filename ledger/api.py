"""The task API, mounted at /api/v1/ by aios/api.py: submit, list and read tasks; retry, discard or cancel
them; approve or reject the actions they propose; work through the approval queue (one request or many).

Endpoints parse input and call one conductor service with `by=request.user` (or `requested_by`). A state
the service refuses — retrying a task that is not dead, deciding an action twice — is a 422 with its
message, like any other refused input of this API; an unknown id is a 404.
"""

import uuid
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Status

from core.api_base import paginated
from core.models import Client, Invoice
from core.schemas import RecordId
from ledger import approvals as approval_services
from ledger import selectors, services
from ledger.models import Action, ApprovalRequest, Task
from ledger.money.api import router as money_router
from ledger.privacy import services as privacy_services
from ledger.schemas import (
    ActionOut,
    ApprovalDetailOut,
    ApprovalFilters,
    ApprovalIdsIn,
    ApprovalOut,
    ApprovalsRejectIn,
    ApproveIn,
    BatchOut,
    ReasonIn,
    RejectIn,
    TaskDetailOut,
    TaskFilters,
    TaskOut,
    TaskSubmitIn,
    TaskSubmitOut,
)

router = Router()
tasks = Router(tags=["tasks"])
actions = Router(tags=["actions"])
approvals = Router(tags=["approvals"])
client_data = Router(tags=["client data"])
invoice_mail = Router(tags=["invoices"])


@tasks.post("", response={200: TaskSubmitOut, 201: TaskSubmitOut})
def submit_task(request: HttpRequest, payload: TaskSubmitIn):
    """Create and queue a task, or return the one its idempotency key already made (200, `created` false)."""
    task, created = services.task_submit_or_get(
        workflow=payload.workflow,
        input=payload.input,
        idempotency_key=payload.idempotency_key,
        requested_by=request.user,
        mode=payload.mode,
    )
    task.created = created
    return Status(201 if created else 200, task)


@tasks.get("", response=list[TaskOut])
@paginated
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]):
    """Newest first."""
    return selectors.task_list(**filters.model_dump())


@tasks.get("/{task_id}", response=TaskDetailOut)
def get_task(request: HttpRequest, task_id: uuid.UUID):
    """The task with its timeline, actions (and their outbox emails), LLM calls and cost."""
    return selectors.task_with_record(task_id=task_id)


@tasks.post("/{task_id}/retry", response=TaskOut)
def retry_task(request: HttpRequest, task_id: uuid.UUID):
    """Send a dead letter back to the queue with a fresh set of attempts."""
    task = get_object_or_404(Task, pk=task_id)
    return services.task_retry(task=task, by=request.user)


@tasks.post("/{task_id}/discard", response=TaskOut)
def discard_task(request: HttpRequest, task_id: uuid.UUID, payload: ReasonIn | None = None):
    """Give up on a dead letter for good. Only dead-lettered tasks; `cancel` stops the others."""
    task = get_object_or_404(Task, pk=task_id)
    reason = payload.reason if payload else ""
    return services.task_discard(task=task, by=request.user, reason=reason)


@tasks.post("/{task_id}/cancel", response=TaskOut)
def cancel_task(request: HttpRequest, task_id: uuid.UUID, payload: ReasonIn | None = None):
    """Stop a task that has not finished; the actions still waiting for a decision are rejected."""
    task = get_object_or_404(Task, pk=task_id)
    return services.task_cancel(task=task, by=request.user, reason=payload.reason if payload else "")


@actions.post("/{action_id}/approve", response=ActionOut)
def approve_action(request: HttpRequest, action_id: RecordId):
    """Approve a proposed action; its task is queued again once nothing else waits for a decision."""
    action = get_object_or_404(Action, pk=action_id)
    return services.action_approve(action=action, by=request.user)


@actions.post("/{action_id}/reject", response=ActionOut)
def reject_action(request: HttpRequest, action_id: RecordId, payload: RejectIn):
    """Reject a proposed action: it is never carried out."""
    action = get_object_or_404(Action, pk=action_id)
    return services.action_reject(action=action, by=request.user, reason=payload.reason)


# --- Approval queue ----------------------------------------------------------------------------


@approvals.get("", response=list[ApprovalOut])
@paginated
def list_approvals(request: HttpRequest, filters: Query[ApprovalFilters]):
    """Waiting requests by default: most urgent, then oldest first."""
    return selectors.approval_queue(status=filters.status)


# The batch paths are registered before `/{id}` ones; ids are ints, so `approve` never reads as an id.
@approvals.post("/approve", response=BatchOut)
def approve_approvals(request: HttpRequest, payload: ApprovalIdsIn):
    """Approve many requests; each is decided on its own, so one already decided does not stop the rest."""
    return approval_services.approvals_approve_many(ids=payload.ids, by=request.user)


@approvals.post("/reject", response=BatchOut)
def reject_approvals(request: HttpRequest, payload: ApprovalsRejectIn):
    """Reject many requests with one reason; each is decided on its own."""
    return approval_services.approvals_reject_many(ids=payload.ids, by=request.user, reason=payload.reason)


@approvals.get("/{int:approval_id}", response=ApprovalDetailOut)
def get_approval(request: HttpRequest, approval_id: int):
    """One request with its action: payload, inferred fields (value, source span, confidence) and source."""
    return selectors.approval_detail(approval_id=approval_id)


@approvals.post("/{int:approval_id}/approve", response=ApprovalDetailOut)
def approve_approval(request: HttpRequest, approval_id: int, payload: ApproveIn | None = None):
    """Approve, or edit then approve with `changes`; the task resumes once nothing else of it waits."""
    approval = get_object_or_404(ApprovalRequest, pk=approval_id)
    changes = payload.changes if payload else None
    approval_services.approval_approve(approval=approval, by=request.user, changes=changes or None)
    return selectors.approval_detail(approval_id=approval.pk)


@approvals.post("/{int:approval_id}/reject", response=ApprovalDetailOut)
def reject_approval(request: HttpRequest, approval_id: int, payload: RejectIn):
    """Reject with a reason: the action is never carried out."""
    approval = get_object_or_404(ApprovalRequest, pk=approval_id)
    approval_services.approval_reject(approval=approval, by=request.user, reason=payload.reason)
    return selectors.approval_detail(approval_id=approval.pk)


# --- A client's data --------------------------------------------------------------------------


@client_data.post("/{client_id}/export", response={202: TaskOut})
def export_client_data(request: HttpRequest, client_id: RecordId):
    """Ask for everything about the client as one zip: a `client.export` task whose action waits for the
    operator's approval (a hard floor). Download it from `GET /tasks/{id}/export` once committed."""
    client = get_object_or_404(Client, pk=client_id)
    return Status(202, privacy_services.client_data_request(client=client, kind="export", by=request.user))


@client_data.post("/{client_id}/erase", response={202: TaskOut})
def erase_client_data(request: HttpRequest, client_id: RecordId):
    """Ask for the client's personal data to be erased (issued invoices and payments are kept): a
    `client.erase` task whose action waits for the operator's approval (a hard floor)."""
    client = get_object_or_404(Client, pk=client_id)
    return Status(202, privacy_services.client_data_request(client=client, kind="erase", by=request.user))


@invoice_mail.post("/{invoice_id}/send", response={202: TaskOut})
def send_invoice(request: HttpRequest, invoice_id: RecordId):
    """Send the invoice to its client by email with its PDF/A-3 (Factur-X) attached, in the client's thread:
    an `invoice.send` task writes the email, and the ledger asks the operator (or a policy) before it leaves.
    A draft is issued — numbered — only when that is agreed. Asked again while one is under way, the same
    task. `POST /invoices/{id}/mark-sent` records an invoice sent some other way."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    return Status(202, services.invoice_send_request(invoice=invoice, requested_by=request.user))


@tasks.get("/{task_id}/export")
def download_client_export(request: HttpRequest, task_id: uuid.UUID):
    """The zip a committed `client.export` task wrote (404 until it is approved and written)."""
    task = get_object_or_404(Task, pk=task_id)
    result = privacy_services.client_export_file(task=task)
    if result is None or not Path(result["path"]).is_file():
        raise Http404("This task has no export to download (not approved yet, or erased since).")
    return FileResponse(
        open(result["path"], "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=f"client-{result['client']}-{task.pk}.zip",
        content_type="application/zip",
    )


router.add_router("/clients", client_data)
router.add_router("/invoices", invoice_mail)
router.add_router("/tasks", tasks)
router.add_router("/actions", actions)
router.add_router("/approvals", approvals)
router.add_router("", money_router)
