"""The states and kinds of the ledger's rows: one vocabulary, importable without the models.

Saleor keeps an app's statuses beside its models the same way (`saleor/order/__init__.py` holds
`OrderStatus`, which models, mutations and webhooks import); core does it in `core.states`. The models
take their choices from here and keep them under their own names (`Task.Status` is `TaskStatus`), so
callers spell a state either way. What needs a state but not a row — the conductor's transitions, the
policy parameters, the API's schemas — can import it from here without loading the app registry.

Values are what the database stores (and, for task statuses, what the transition trigger checks);
labels are what the back office shows: changing either changes the fields' choices, which is a migration.
"""

from __future__ import annotations

from django.db import models

# Tasks and their timeline


class TaskStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    WAITING_APPROVAL = "waiting_approval", "Waiting for approval"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    RETRYING = "retrying", "Retrying"
    DEAD = "dead", "Dead letter"
    CANCELLED = "cancelled", "Cancelled"


class TaskMode(models.TextChoices):
    LIVE = "live", "Live"
    SHADOW = "shadow", "Shadow"


class TaskRequester(models.TextChoices):
    USER = "user", "User"
    CONNECTOR = "connector", "Connector"
    SCHEDULE = "schedule", "Schedule"
    TASK = "task", "Parent task"
    SYSTEM = "system", "System"


class TaskEventKind(models.TextChoices):
    CREATED = "created", "Created"
    QUEUED = "queued", "Queued"
    CLAIMED = "claimed", "Claimed"
    STEP_STARTED = "step_started", "Step started"
    STEP_FINISHED = "step_finished", "Step finished"
    LLM_CALL = "llm_call", "LLM call"
    MEMORY_READ = "memory_read", "Memory read"
    ACTION_PROPOSED = "action_proposed", "Action proposed"
    POLICY_DECISION = "policy_decision", "Policy decision"
    APPROVAL_ASKED = "approval_asked", "Approval asked"
    APPROVAL_GIVEN = "approval_given", "Approval given"
    COMMITTED = "committed", "Committed"
    DELIVERED = "delivered", "Delivered"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    RETRY_SCHEDULED = "retry_scheduled", "Retry scheduled"
    LEASE_EXPIRED = "lease_expired", "Lease expired"
    DEAD_LETTERED = "dead_lettered", "Dead-lettered"
    REQUEUED = "requeued", "Re-queued by the operator"
    CANCELLED = "cancelled", "Cancelled"
    REPLAYED = "replayed", "Replayed"
    DEFERRED = "deferred", "Deferred (budget)"
    APPROVAL_EXPIRED = "approval_expired", "Approval expired"
    REVERSAL_ASKED = "reversal_asked", "Reversal asked"
    DELIVERY_FAILED = "delivery_failed", "Delivery failed (will retry)"


# Effects, their emails and the operator's approvals


class ActionStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    COMMITTED = "committed", "Committed"
    FAILED = "failed", "Failed"


class OutboxEmailStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"


class ApprovalRequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class AutonomySuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"
    REVOKED = "revoked", "Revoked"


# Policies and notices


class PolicyKind(models.TextChoices):
    APPROVAL = "approval", "Approval"
    BUDGET = "budget", "Budget"
    RETENTION = "retention", "Retention"
    AUTONOMY = "autonomy", "Autonomy"
    REMINDER = "reminder", "Payment reminders"
    DELIVERY = "delivery", "Delivery"


class NoticeLevel(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    ERROR = "error", "Error"
