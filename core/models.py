"""Canonical business records of the workspace (DESIGN §4).

Models hold data and database-level invariants (CHECK and UNIQUE constraints, and the triggers in
migrations that freeze issued invoices). Every write goes through `core.services`; nothing here
has business logic in `save()`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Round, Trim
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField
from simple_history.models import HistoricalRecords

from core.currencies import CURRENCY_CODES

MONEY = {"max_digits": 14, "decimal_places": 2}
QUANTITY = {"max_digits": 12, "decimal_places": 3}
NON_NEGATIVE = [MinValueValidator(Decimal("0"))]
SERVICE_KEY_VALIDATOR = RegexValidator(
    r"^[a-z0-9][a-z0-9_]*$", "Use lower-case letters, digits and underscores."
)
_CURRENCY_CHOICES = [(code, code) for code in sorted(CURRENCY_CODES)]


def currency_field(**kwargs) -> models.CharField:
    return models.CharField(max_length=3, choices=_CURRENCY_CHOICES, default="EUR", **kwargs)


def currency_check(name: str, field: str = "currency") -> models.CheckConstraint:
    return models.CheckConstraint(condition=Q(**{f"{field}__in": sorted(CURRENCY_CODES)}), name=name)


def email_normalised_check(name: str, field: str = "email") -> models.CheckConstraint:
    # Blank is allowed where the field is optional; anything else must already be trimmed lower case.
    return models.CheckConstraint(condition=Q(**{field: Lower(Trim(F(field)))}), name=name)


def non_negative_check(name: str, *fields: str) -> models.CheckConstraint:
    condition = Q()
    for field in fields:
        condition &= Q(**{f"{field}__gte": 0}) | Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=condition, name=name)


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Workspace(TimeStamped):
    """The one business this installation runs: its name, operator and invoicing defaults."""

    name = models.CharField(max_length=200)
    operator_name = models.CharField(max_length=200)
    operator_email = models.EmailField()
    invoice_prefix = models.CharField(
        max_length=10,
        validators=[RegexValidator(r"^[A-Z0-9]{1,10}$", "Use 1-10 upper-case letters or digits.")],
        help_text="Invoice numbers look like PREFIX-2026-0001.",
    )
    default_currency = currency_field()
    payment_terms_days = models.PositiveSmallIntegerField(default=30)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            # A singleton: the row with pk=1 is the workspace.
            models.CheckConstraint(condition=Q(pk=1), name="workspace_singleton"),
            currency_check("workspace_currency_iso4217", "default_currency"),
            email_normalised_check("workspace_email_normalised", "operator_email"),
        ]

    def __str__(self) -> str:
        return self.name


class Client(TimeStamped):
    class Kind(models.TextChoices):
        ORGANISATION = "organisation", "Organisation"
        PERSON = "person", "Person"

    class Status(models.TextChoices):
        LEAD = "lead", "Lead"
        ACTIVE = "active", "Active"
        PAST = "past", "Past"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ORGANISATION)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LEAD, db_index=True)
    email = models.EmailField(blank=True, help_text="Billing or main address; stored in lower case.")
    website = models.URLField(blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2 code.")
    default_currency = currency_field()
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            currency_check("client_currency_iso4217", "default_currency"),
            email_normalised_check("client_email_normalised"),
            models.CheckConstraint(condition=~Q(name=""), name="client_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(TimeStamped):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(help_text="Stored in lower case.")
    role = models.CharField(max_length=120, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_primary = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["client", "-is_primary", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["client", "email"], name="contact_email_unique_per_client"),
            models.UniqueConstraint(
                fields=["client"], condition=Q(is_primary=True), name="contact_one_primary_per_client"
            ),
            email_normalised_check("contact_email_normalised"),
            models.CheckConstraint(condition=~Q(email=""), name="contact_email_required"),
        ]
        indexes = [models.Index(fields=["email"], name="contact_email_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Project(TimeStamped):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    budget = models.DecimalField(**MONEY, null=True, blank=True, validators=NON_NEGATIVE)
    currency = currency_field()
    start_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            non_negative_check("project_budget_non_negative", "budget"),
            currency_check("project_currency_iso4217"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(due_date__isnull=True)
                | Q(due_date__gte=F("start_date")),
                name="project_due_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Deliverable(TimeStamped):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DELIVERED = "delivered", "Delivered"
        ACCEPTED = "accepted", "Accepted"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deliverables")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED, db_index=True)
    due_date = models.DateField(null=True, blank=True)
    estimate_hours = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True, validators=NON_NEGATIVE
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [non_negative_check("deliverable_estimate_non_negative", "estimate_hours")]

    def __str__(self) -> str:
        return self.title


class PricingRule(TimeStamped):
    service_key = models.CharField(max_length=50, unique=True, validators=[SERVICE_KEY_VALIDATOR])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=20, help_text="What one unit is: package, page, piece, month, hour…")
    unit_price = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    currency = currency_field()
    min_units = models.DecimalField(**QUANTITY, default=Decimal("1"), validators=NON_NEGATIVE)
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["service_key"]
        constraints = [
            non_negative_check("pricingrule_amounts_non_negative", "unit_price", "min_units"),
            currency_check("pricingrule_currency_iso4217"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.service_key})"


class MoneyDocument(TimeStamped):
    """Shared columns of proposals and invoices: currency and totals kept equal to their lines."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    currency = currency_field()
    subtotal = models.DecimalField(**MONEY, default=Decimal("0.00"), editable=False)
    tax_total = models.DecimalField(**MONEY, default=Decimal("0.00"), editable=False)
    total = models.DecimalField(**MONEY, default=Decimal("0.00"), editable=False)
    notes = models.TextField(blank=True)

    class Meta:
        abstract = True


class MoneyLine(models.Model):
    """A priced line. `amount` and `tax_amount` are derived and the database checks the arithmetic."""

    position = models.PositiveIntegerField(default=0)
    description = models.CharField(max_length=500)
    service_key = models.CharField(max_length=50, blank=True)
    quantity = models.DecimalField(**QUANTITY, validators=NON_NEGATIVE)
    unit = models.CharField(max_length=20, blank=True)
    unit_price = models.DecimalField(**MONEY, validators=NON_NEGATIVE)
    tax_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0"), validators=NON_NEGATIVE, help_text="Percent."
    )
    amount = models.DecimalField(**MONEY, editable=False)
    tax_amount = models.DecimalField(**MONEY, default=Decimal("0.00"), editable=False)

    class Meta:
        abstract = True
        ordering = ["position", "pk"]

    @classmethod
    def line_constraints(cls, prefix: str) -> list[models.CheckConstraint]:
        return [
            non_negative_check(f"{prefix}_non_negative", "quantity", "unit_price", "tax_rate"),
            models.CheckConstraint(condition=Q(tax_rate__lte=100), name=f"{prefix}_tax_rate_max_100"),
            models.CheckConstraint(
                condition=Q(amount=Round(F("quantity") * F("unit_price"), 2)),
                name=f"{prefix}_amount_is_product",
            ),
            models.CheckConstraint(
                condition=Q(tax_amount=Round(F("amount") * F("tax_rate") / 100, 2)),
                name=f"{prefix}_tax_is_rate",
            ),
        ]


class Proposal(MoneyDocument):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING_APPROVAL = "pending_approval", "Pending approval"
        SENT = "sent", "Sent"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="proposals")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="proposals"
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    valid_until = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    cover_letter = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            currency_check("proposal_currency_iso4217"),
            non_negative_check("proposal_totals_non_negative", "subtotal", "tax_total", "total"),
            models.CheckConstraint(
                condition=Q(total=F("subtotal") + F("tax_total")), name="proposal_total_sum"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class ProposalLine(MoneyLine):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines")
    history = HistoricalRecords()

    class Meta(MoneyLine.Meta):
        constraints = MoneyLine.line_constraints("proposalline")

    def __str__(self) -> str:
        return self.description


class InvoiceSequence(models.Model):
    """The last invoice number used in a year. Incremented in the issuing transaction, so a rolled
    back issue gives its number back and the sequence stays gap-free."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class Invoice(MoneyDocument):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        APPROVED = "approved", "Approved (issued)"
        SENT = "sent", "Sent"
        PAID = "paid", "Paid"
        OVERDUE = "overdue", "Overdue"
        VOID = "void", "Void"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        help_text="The void invoice this one re-issues.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    number = models.CharField(max_length=32, null=True, blank=True, unique=True, editable=False)
    number_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    number_sequence = models.PositiveIntegerField(null=True, blank=True, editable=False)
    issue_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            currency_check("invoice_currency_iso4217"),
            non_negative_check("invoice_totals_non_negative", "subtotal", "tax_total", "total"),
            models.CheckConstraint(
                condition=Q(total=F("subtotal") + F("tax_total")), name="invoice_total_sum"
            ),
            models.UniqueConstraint(
                fields=["number_year", "number_sequence"], name="invoice_number_unique_per_year"
            ),
            # Issued (non-draft) invoices carry a number and dates; drafts carry neither number part.
            models.CheckConstraint(
                condition=Q(
                    status="draft",
                    number__isnull=True,
                    number_year__isnull=True,
                    number_sequence__isnull=True,
                )
                | (
                    ~Q(status="draft")
                    & Q(
                        number__isnull=False,
                        number_year__isnull=False,
                        number_sequence__isnull=False,
                        issue_date__isnull=False,
                        due_date__isnull=False,
                    )
                ),
                name="invoice_number_iff_issued",
            ),
            models.CheckConstraint(
                condition=Q(issue_date__isnull=True)
                | Q(due_date__isnull=True)
                | Q(due_date__gte=F("issue_date")),
                name="invoice_due_after_issue",
            ),
            models.CheckConstraint(
                condition=~Q(status="void") | Q(voided_at__isnull=False), name="invoice_void_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False), name="invoice_paid_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft invoice #{self.pk}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class InvoiceLine(MoneyLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    history = HistoricalRecords()

    class Meta(MoneyLine.Meta):
        constraints = MoneyLine.line_constraints("invoiceline")

    def __str__(self) -> str:
        return self.description


class Contract(TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SENT = "sent", "Sent"
        SIGNED = "signed", "Signed"
        EXPIRED = "expired", "Expired"
        TERMINATED = "terminated", "Terminated"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="contracts")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    value = models.DecimalField(**MONEY, null=True, blank=True, validators=NON_NEGATIVE)
    currency = currency_field()
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    terms = models.TextField(blank=True)
    document = models.ForeignKey(
        "Artifact", on_delete=models.SET_NULL, null=True, blank=True, related_name="contracts"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            non_negative_check("contract_value_non_negative", "value"),
            currency_check("contract_currency_iso4217"),
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="contract_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    MEETING = "meeting", "Meeting"
    CHAT = "chat", "Chat"
    OTHER = "other", "Other"


class Conversation(TimeStamped):
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    subject = models.CharField(max_length=500, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-last_message_at", "-pk"]

    def __str__(self) -> str:
        return self.subject or f"Conversation #{self.pk}"


class Artifact(TimeStamped):
    """A stored file, deduplicated by content hash."""

    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="artifacts"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="artifacts"
    )
    file = models.FileField(upload_to="artifacts/%Y/%m/")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, unique=True, validators=[RegexValidator(r"^[0-9a-f]{64}$")])
    mime_type = models.CharField(max_length=127, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    extracted_text = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.filename


class Message(TimeStamped):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices, db_index=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    message_id = models.CharField(
        max_length=998,
        null=True,
        blank=True,
        unique=True,
        help_text="RFC 5322 Message-ID without angle brackets; unique across the workspace.",
    )
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    from_email = models.EmailField(blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attachments = models.ManyToManyField(Artifact, blank=True, related_name="messages")
    history = HistoricalRecords(m2m_fields=[attachments])

    class Meta:
        ordering = ["sent_at", "pk"]
        constraints = [
            email_normalised_check("message_from_email_normalised", "from_email"),
            models.CheckConstraint(
                condition=~Q(channel="email") | Q(message_id__isnull=False),
                name="message_email_has_message_id",
            ),
            models.CheckConstraint(condition=~Q(message_id=""), name="message_id_not_blank"),
        ]

    def __str__(self) -> str:
        return self.subject or f"Message #{self.pk}"


class Decision(TimeStamped):
    """What was decided, why, and by whom, optionally linked to the record it is about."""

    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    title = models.CharField(max_length=300)
    rationale = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField()
    subject_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("subject_type", "subject_id")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="decision_subject_idx")]

    def __str__(self) -> str:
        return self.title


class ActionTemplate(TimeStamped):
    """Named, parameterised text for proposals, follow-ups, reminders and replies (Django template syntax)."""

    class Kind(models.TextChoices):
        PROPOSAL = "proposal", "Proposal cover"
        FOLLOW_UP = "follow_up", "Follow-up"
        REMINDER = "reminder", "Payment reminder"
        REPLY = "reply", "Reply"

    key = models.CharField(max_length=50, unique=True, validators=[SERVICE_KEY_VALIDATOR])
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "key"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the token is shown once when created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise a token.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class Note(TimeStamped):
    """Something the operator wants remembered about a client or project. Pinned notes are canonical
    memory: never compressed, never expired, never deleted by retention."""

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="operator_notes"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="operator_notes"
    )
    text = models.TextField()
    pinned = models.BooleanField(
        default=False, help_text="Pinned notes are canonical facts: kept for good and recalled first."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="note_text_not_blank")]

    def __str__(self) -> str:
        return self.text[:80]


class MemoryItem(models.Model):
    """One remembered chunk of text with its embedding, subject and provenance (DESIGN §5).

    Items are derived from canonical records (and the operator's notes) by capture tasks; they are not
    themselves canonical business records, so they carry no history table: the ledger task that wrote
    an item (`source_task`) and its source record are the audit trail.
    """

    class Tier(models.TextChoices):
        SESSION = "session", "Session"
        WORKING = "working", "Working"
        CANONICAL = "canonical", "Canonical"

    class Kind(models.TextChoices):
        MESSAGE = "message", "Message"
        PROPOSAL = "proposal", "Proposal"
        DECISION = "decision", "Decision"
        NOTE = "note", "Note"
        ARTIFACT = "artifact", "Artifact"
        SUMMARY = "summary", "Summary"
        FACT = "fact", "Fact"

    id = models.BigAutoField(primary_key=True)
    tier = models.CharField(max_length=10, choices=Tier.choices, default=Tier.WORKING)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.TextField()
    # sha256 of the normalised text: the same text for the same subject is stored once.
    content_hash = models.CharField(max_length=64)
    embedding = VectorField(dimensions=settings.AIOS_EMBEDDING_DIM, null=True, blank=True)
    # Which provider and model made `embedding`; recall only compares vectors of the current model.
    embedding_model = models.CharField(max_length=200, blank=True)
    search = models.GeneratedField(
        expression=SearchVector("text", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, null=True, blank=True, related_name="memory_items"
    )
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="memory_items"
    )
    source_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")
    chunk = models.PositiveIntegerField(default=0, help_text="Position of this chunk in its source.")
    source_task = models.ForeignKey(
        "ledger.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="memory_items"
    )
    # Other records that said the same thing (dedupe keeps one item and remembers where else it came from).
    also_from = models.JSONField(default=list, blank=True)
    mentions = models.PositiveIntegerField(default=1)
    importance = models.FloatField(default=0.5)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_recalled_at = models.DateTimeField(null=True, blank=True)
    recall_count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A compressed original points at its summary; a near-duplicate at the item it repeats. Superseded
    # items are never recalled themselves, only through the item that supersedes them.
    superseded_by = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="supersedes"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "project", "content_hash"],
                nulls_distinct=False,
                name="memory_once_per_subject",
            ),
            models.CheckConstraint(
                condition=Q(importance__gte=0, importance__lte=1), name="memory_importance_0_1"
            ),
            models.CheckConstraint(condition=~Q(text=""), name="memory_text_not_blank"),
            models.CheckConstraint(
                condition=~Q(tier="canonical") | Q(expires_at__isnull=True),
                name="memory_canonical_never_expires",
            ),
        ]
        indexes = [
            # Only live items are searched by vector; superseded ones stay out of the graph.
            HnswIndex(
                name="memory_embedding_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
                condition=Q(superseded_by__isnull=True),
            ),
            GinIndex(fields=["search"], name="memory_search_gin"),
            models.Index(fields=["source_type", "source_id"], name="memory_source_idx"),
            models.Index(fields=["tier", "kind", "created_at"], name="memory_tier_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class MemoryRecall(models.Model):
    """Provenance: one recall made inside a task, with the items it returned and their scores."""

    task = models.ForeignKey("ledger.Task", on_delete=models.CASCADE, related_name="memory_recalls")
    step = models.CharField(max_length=100, blank=True)
    query = models.TextField()
    mode = models.CharField(max_length=10)
    tiers = models.JSONField(default=list)
    client = models.ForeignKey(Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    k = models.PositiveSmallIntegerField()
    # [{"item": id, "score": …, "vector_rank": …, "keyword_rank": …, "similarity": …, "text": excerpt}]
    results = models.JSONField(default=list)
    items = models.ManyToManyField(MemoryItem, blank=True, related_name="recalls")
    duration_ms = models.FloatField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"recall {self.query[:60]!r}"
