"""Shapes of the task API (ledger/api.py). Decimals go out as strings ("0.004125"), as in core."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from core.schemas import Input, RecordId, api_enum
from ledger.models import Action, ApprovalRequest, OutboxEmail, Task, TaskEvent
from ledger.selectors import requester_label

TaskMode = api_enum(Task.Mode, name="TaskMode", module=__name__)
TaskStatus = api_enum(Task.Status, name="TaskStatus", module=__name__)
TaskEventKind = api_enum(TaskEvent.Kind, name="TaskEventKind", module=__name__)
OutboxEmailStatus = api_enum(OutboxEmail.Status, name="OutboxEmailStatus", module=__name__)
ActionStatus = api_enum(Action.Status, name="ActionStatus", module=__name__)
ApprovalStatus = api_enum(ApprovalRequest.Status, name="ApprovalStatus", module=__name__)

COST_SCALE = Decimal(1).scaleb(-Task._meta.get_field("cost").decimal_places)


class TaskSubmitIn(Input):
    workflow: str = Field(max_length=100, description="A registered workflow, e.g. `email.send`.")
    input: dict[str, Any] = Field(default_factory=dict, description="Checked against the workflow's schema.")
    idempotency_key: str = Field(
        max_length=255, description="The same key gives the same task: submitting twice is safe."
    )
    mode: TaskMode = TaskMode.LIVE


class TaskFilters(Schema):
    status: TaskStatus | None = None
    workflow: str | None = Field(None, max_length=100)


class ReasonIn(Input):
    reason: str = Field("", max_length=2000)


class RejectIn(Input):
    reason: str = Field(min_length=1, max_length=2000, description="Kept on the action and its timeline.")


class TaskOut(Schema):
    id: uuid.UUID
    workflow: str
    status: TaskStatus
    mode: TaskMode
    idempotency_key: str
    input: dict[str, Any]
    output: dict[str, Any] | None
    requested_by: str
    parent_id: uuid.UUID | None
    attempts: int
    max_attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str
    cost: Decimal = Field(description="USD, summed over the task's LLM calls.")
    created_at: dt.datetime
    updated_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_requested_by(task: Task) -> str:
        return requester_label(task)

    @staticmethod
    def resolve_cost(task: Task) -> Decimal:
        # The column's scale, also for a task just created in memory (whose default is Decimal("0")).
        return task.cost.quantize(COST_SCALE)


class TaskSubmitOut(TaskOut):
    created: bool = Field(description="False when the key had already made this task.")


class EventOut(Schema):
    id: int
    kind: TaskEventKind
    attempt: int
    step: str
    message: str
    data: dict[str, Any]
    at: dt.datetime


class OutboxEmailOut(Schema):
    id: int
    message_id: str
    status: OutboxEmailStatus
    to: list[str]
    cc: list[str]
    subject: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


class ActionOut(Schema):
    id: int
    task_id: uuid.UUID
    step: str
    kind: str
    summary: str
    payload: dict[str, Any]
    status: ActionStatus
    decision: str
    decision_reason: str
    decided_by: str | None
    decided_at: dt.datetime | None
    result: dict[str, Any] | None
    error: str
    created_at: dt.datetime
    committed_at: dt.datetime | None
    outbox_email: OutboxEmailOut | None

    @staticmethod
    def resolve_decided_by(action: Action) -> str | None:
        return action.decided_by.get_username() if action.decided_by_id else None

    @staticmethod
    def resolve_outbox_email(action: Action) -> OutboxEmail | None:
        # A reverse one-to-one raises when there is no row; select_related caches that absence.
        return getattr(action, "outbox_email", None)


class LLMCallOut(Schema):
    id: int
    step: str
    agent: str
    model: str
    tier: str
    outcome: str
    tokens_in: int
    tokens_out: int
    cost: Decimal
    latency_ms: int
    cache_hit: bool
    attempts: int
    error: str
    created_at: dt.datetime


class TaskDetailOut(TaskOut):
    last_traceback: str
    events: list[EventOut]
    actions: list[ActionOut]
    llm_calls: list[LLMCallOut]


# --- Approval queue ----------------------------------------------------------------------------


class ApprovalFilters(Schema):
    status: ApprovalStatus = ApprovalStatus.PENDING


class ApproveIn(Input):
    changes: dict[str, Any] = Field(
        default_factory=dict,
        description="New values of draft fields (edit, then approve); kept on the request as a diff.",
    )


class ApprovalIdsIn(Input):
    ids: list[RecordId] = Field(min_length=1, max_length=500)


class ApprovalsRejectIn(ApprovalIdsIn):
    reason: str = Field(min_length=1, max_length=2000, description="Kept on every rejected action.")


class BatchOut(Schema):
    done: list[int] = Field(description="The requests decided by this call.")
    refused: dict[int, str] = Field(description="Request id → why it was not decided (e.g. already decided).")


class PolicyRefOut(Schema):
    id: int | None
    name: str
    version: int | None
    kind: str


class InferredOut(Schema):
    field: str
    value: Any = None
    source: str = ""
    span: list[int] | None = None
    confidence: float | None = None


class ApprovalActionSummaryOut(Schema):
    id: int
    kind: str
    summary: str
    status: ActionStatus
    agent: str
    agent_version: str
    confidence: float | None
    amount: Decimal | None
    currency: str


class ApprovalActionOut(ApprovalActionSummaryOut):
    step: str
    payload: dict[str, Any]
    inferred: list[InferredOut]
    source: dict[str, Any]
    decision_reason: str


class ApprovalOut(Schema):
    id: int
    task_id: uuid.UUID
    status: ApprovalStatus
    reason: str
    policies: list[PolicyRefOut]
    floors: list[str]
    urgency: int
    created_at: dt.datetime
    expires_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    edited: bool
    edit_diff: dict[str, Any] = Field(
        description='{field: {"before": …, "after": …}} of the operator\'s edits.'
    )
    reject_reason: str
    action: ApprovalActionSummaryOut

    @staticmethod
    def resolve_decided_by(approval: ApprovalRequest) -> str | None:
        return approval.decided_by.get_username() if approval.decided_by_id else None


class ApprovalDetailOut(ApprovalOut):
    action: ApprovalActionOut
