"""The task ledger: every piece of agent work, its timeline, the effects it proposed, its LLM calls.

Writes go through `ledger.services` (the conductor). The database guards what matters most: task
status transitions (trigger), the append-only event timeline (trigger), unique idempotency keys.
The rows' states and kinds are in `ledger.states` (`Task.Status` is `ledger.states.TaskStatus`).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from ledger.states import (
    ActionStatus,
    ApprovalRequestStatus,
    AutonomySuggestionStatus,
    NoticeLevel,
    OutboxEmailStatus,
    PolicyKind,
    TaskEventKind,
    TaskMode,
    TaskRequester,
    TaskStatus,
)

COST = {"max_digits": 14, "decimal_places": 6}


class Task(models.Model):
    Status = TaskStatus
    Mode = TaskMode
    Requester = TaskRequester

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.CharField(max_length=100, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.LIVE)
    idempotency_key = models.CharField(max_length=255, unique=True)
    input = models.JSONField(default=dict)
    output = models.JSONField(null=True, blank=True)
    requested_by_kind = models.CharField(max_length=10, choices=Requester.choices)
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by_ref = models.CharField(
        max_length=200, blank=True, help_text="Connector, schedule or system name."
    )
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=5)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_by = models.CharField(max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_traceback = models.TextField(blank=True)
    cost = models.DecimalField(**COST, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(attempts__lte=models.F("max_attempts") + 1), name="task_attempts_bound"
            ),
            models.CheckConstraint(condition=Q(cost__gte=0), name="task_cost_non_negative"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="task_due_idx")]

    def __str__(self) -> str:
        return f"{self.workflow} {str(self.id)[:8]}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.DEAD, self.Status.CANCELLED)


class TaskEvent(models.Model):
    """The append-only timeline of a task. A trigger refuses updates and deletes."""

    Kind = TaskEventKind

    id = models.BigAutoField(primary_key=True)
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    attempt = models.PositiveIntegerField(default=0)
    step = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["task", "id"], name="taskevent_timeline_idx")]

    def __str__(self) -> str:
        return f"{self.kind} ({self.at:%Y-%m-%d %H:%M:%S})"


class Action(models.Model):
    """An effect proposed by an agent. Only the ledger's commit step carries it out."""

    Status = ActionStatus

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="actions")
    step = models.CharField(max_length=100)
    kind = models.CharField(max_length=50, db_index=True)
    payload = models.JSONField(default=dict)
    summary = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    idempotency_key = models.CharField(max_length=300, unique=True)
    decision = models.CharField(max_length=20, blank=True, help_text="commit, ask or deny")
    decision_reason = models.TextField(blank=True)
    # The policy versions that decided, e.g. [{"id": 3, "name": "…", "version": 2}] or builtin rules.
    decision_policies = models.JSONField(default=list, blank=True)
    # What the proposing agent said about its proposal (shown on the approval page, used by conditions).
    agent = models.CharField(max_length=100, blank=True, db_index=True)
    agent_version = models.CharField(max_length=20, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    # Fields the agent inferred: [{"field", "value", "source", "span": [start, end], "confidence"}].
    inferred = models.JSONField(default=list, blank=True)
    # Where the proposal came from: {"type": "message", "id": 12, "text": "…"}; untrusted text is data.
    source = models.JSONField(default=dict, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confidence__isnull=True) | Q(confidence__gte=0, confidence__lte=1),
                name="action_confidence_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.status})"


class OutboxEmail(models.Model):
    """An email to be sent exactly once. Created in the commit transaction of its action.

    Delivery locks the row (FOR UPDATE SKIP LOCKED) for the whole SMTP conversation and marks it sent
    in the same transaction, so a worker that dies mid-send leaves it pending for the next one. A failed
    delivery keeps it pending and retried with backoff for as long as the delivery policy says; only then
    (or when the server refuses it for good) is it `failed`, with a notice to the operator (ADR 0014).
    """

    Status = OutboxEmailStatus

    action = models.OneToOneField(Action, on_delete=models.PROTECT, related_name="outbox_email")
    message_id = models.CharField(max_length=255, unique=True)
    from_email = models.CharField(max_length=254)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998)
    body_text = models.TextField()
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The delivery policy's window starts at the first failure; the next try is when the task retries.
    first_failed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Files sent with the email (an invoice's frozen PDF): stored once, attached by reference.
    attachments = models.ManyToManyField("core.Artifact", blank=True, related_name="outbox_emails")
    # Committed just before the message's final "." leaves for the server and cleared by the reply: set on a
    # pending row, it means the attempt died not knowing whether the server took the message (ADR 0005).
    data_sent_at = models.DateTimeField(null=True, blank=True)
    uncertain_resends = models.PositiveIntegerField(
        default=0, help_text="Times it was sent again after an attempt that may have reached the server."
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "outbox email"

    def __str__(self) -> str:
        return self.subject


class ModelPrice(models.Model):
    """What one million tokens cost for a model; the gateway prices every call from this table."""

    model = models.CharField(max_length=200, unique=True)
    input_per_million = models.DecimalField(max_digits=12, decimal_places=6)
    output_per_million = models.DecimalField(max_digits=12, decimal_places=6)
    currency = models.CharField(max_length=3, default="USD")
    notes = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["model"]
        constraints = [
            models.CheckConstraint(
                condition=Q(input_per_million__gte=0, output_per_million__gte=0),
                name="modelprice_non_negative",
            )
        ]

    def __str__(self) -> str:
        return self.model


class LLMCall(models.Model):
    """One call through the LLM gateway (or one cache hit), with tokens, cost and latency."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, null=True, blank=True, related_name="llm_calls")
    step = models.CharField(max_length=100, blank=True)
    agent = models.CharField(max_length=100, blank=True)
    model = models.CharField(max_length=200)
    tier = models.CharField(max_length=10)
    prompt_hash = models.CharField(max_length=64, db_index=True)
    request = models.JSONField(default=dict, help_text="The messages and schema sent (for replay).")
    response_text = models.TextField(blank=True)
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(**COST, default=Decimal("0"))
    latency_ms = models.PositiveIntegerField(default=0)
    cache_hit = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=1)
    outcome = models.CharField(
        max_length=20,
        default="ok",
        help_text="ok, repaired, invalid, error, blocked (budget), cache (hit), rules (no model)",
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = "LLM call"

    def __str__(self) -> str:
        return f"{self.model} {self.outcome}"


class Policy(models.Model):
    """A rule the workspace enforces at runtime (DESIGN §7), edited in the admin, versioned.

    `params` is validated per kind by `ledger.policy.policy_params_validate`; every change goes through
    `ledger.policy.policy_save`, which bumps `version`. Decisions record the (id, version) that made them.
    """

    Kind = PolicyKind

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    enabled = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    params = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "name"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def ref(self) -> dict:
        return {"id": self.pk, "name": self.name, "version": self.version, "kind": self.kind}


class ApprovalRequest(models.Model):
    """One action waiting for the operator. Created when the policy engine says "ask"."""

    Status = ApprovalRequestStatus

    action = models.OneToOneField(Action, on_delete=models.PROTECT, related_name="approval")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="approvals")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    reason = models.TextField(help_text="Why the operator is asked.")
    policies = models.JSONField(default=list, blank=True, help_text="The policy versions that asked.")
    floors = models.JSONField(default=list, blank=True, help_text="Hard floors that apply.")
    urgency = models.PositiveSmallIntegerField(default=0, help_text="Higher is more urgent.")
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    edited = models.BooleanField(default=False)
    # {field: {"before": …, "after": …}} against the agent's draft, when the operator edited it.
    edit_diff = models.JSONField(default=dict, blank=True)
    reject_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-urgency", "created_at", "id"]
        indexes = [
            models.Index(fields=["status", "-urgency", "created_at"], name="approval_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"approval of {self.action_id} ({self.status})"


class AutonomySuggestion(models.Model):
    """The workspace proposes loosening approval for one agent's action kind after N clean approvals.

    `params` is the approval policy it proposes, fixed when it is made, so what the operator reads is what
    accepting creates; for work started by mail it is narrow and outranks the untrusted-input caution
    (ADR 0015)."""

    Status = AutonomySuggestionStatus

    agent = models.CharField(max_length=100)
    action_kind = models.CharField(max_length=50)
    streak = models.PositiveIntegerField(help_text="Approvals in a row without edits it is based on.")
    params = models.JSONField(
        default=dict, blank=True, help_text="The approval policy accepting it creates (conditions, effect)."
    )
    approvals = models.JSONField(
        default=list, blank=True, help_text="The approval requests of the run it is based on, newest first."
    )
    autonomy_policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="suggestions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_policy = models.ForeignKey(
        Policy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "action_kind"],
                condition=Q(status="open"),
                name="autonomy_one_open_suggestion",
            )
        ]

    def __str__(self) -> str:
        return f"auto-approve {self.action_kind} from {self.agent}"


class Notice(models.Model):
    """Something the operator must see, shown in the back office and on the home page until it is
    resolved. It lives in the database, not in a mailbox: a notice about failing mail must not need mail.

    `key` names the condition ("outbox:waiting", "task-dead:<id>"): raising it again updates the same row
    (and reopens it), so a condition that lasts is one notice, not one per attempt.
    """

    Level = NoticeLevel

    key = models.CharField(max_length=200, unique=True)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.WARNING)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True, help_text="Where the operator acts on it.")
    task = models.ForeignKey(Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="notices")
    raised_at = models.DateTimeField(help_text="When the condition began (kept while it lasts).")
    updated_at = models.DateTimeField()
    occurrences = models.PositiveIntegerField(default=1)
    resolved_at = models.DateTimeField(null=True, blank=True, db_index=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
