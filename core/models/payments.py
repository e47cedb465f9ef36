"""Money in: payments and their allocation to invoices, the payer accounts known per client, and bank
statements with their entries (ADR 0016).

A payment's amount not allocated to any invoice is the client's credit: it is derived (payments minus
allocations), never stored, so it cannot drift from the rows that make it up.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models.base import MONEY, TimeStamped, currency_check, currency_field
from core.models.clients import Client
from core.models.conversations import Artifact
from core.models.money import Invoice
from core.states import BankEntryMatch, BankEntryStatus, BankStatementFormat, PaymentMethod, PaymentSource


class PayerAccount(TimeStamped):
    """A bank account (IBAN) or payer name known to pay for a client: learned from imported invoices and
    from approved payments, so the next transfer from it is recognised."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="payer_accounts")
    iban = models.CharField("IBAN", max_length=34, blank=True, help_text="Compact, upper case.")
    name = models.CharField(max_length=200, blank=True, help_text="The payer's name as the bank shows it.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["client_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["iban"], condition=~Q(iban=""), name="payeraccount_iban_unique"),
            models.CheckConstraint(condition=~Q(iban="", name=""), name="payeraccount_iban_or_name"),
        ]

    def __str__(self) -> str:
        return self.iban or self.name


class BankStatement(TimeStamped):
    """One imported statement file. Its sha256 makes a repeated import a no-op."""

    Format = BankStatementFormat

    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=10, choices=Format.choices)
    sha256 = models.CharField(max_length=64, unique=True)
    account = models.CharField(max_length=64, blank=True, help_text="The statement's own account (IBAN).")
    statement_ref = models.CharField(max_length=100, blank=True)
    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    entries_count = models.PositiveIntegerField(default=0)
    duplicates_count = models.PositiveIntegerField(
        default=0, help_text="Entries already known from an earlier, overlapping statement."
    )

    def __str__(self) -> str:
        return self.filename


class BankEntry(TimeStamped):
    """One booked line of a statement. Credits are matched to open invoices; debits are kept, never
    matched. `fingerprint` identifies the same booking across overlapping statements and formats."""

    Match = BankEntryMatch
    Status = BankEntryStatus

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveIntegerField()
    fingerprint = models.CharField(max_length=64, unique=True)
    entry_ref = models.CharField(max_length=140, blank=True)
    booked_on = models.DateField(db_index=True)
    amount = models.DecimalField(**MONEY, help_text="Signed: credits positive, debits negative.")
    currency = currency_field()
    counterparty = models.CharField(max_length=200, blank=True)
    counterparty_iban = models.CharField(max_length=34, blank=True)
    remittance = models.TextField(blank=True)
    match_kind = models.CharField(max_length=10, choices=Match.choices, db_index=True)
    match = models.JSONField(default=dict, blank=True, help_text="Matched invoices, candidates and why.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)

    class Meta:
        ordering = ["statement_id", "position"]
        verbose_name_plural = "bank entries"
        constraints = [currency_check("bankentry_currency_iso4217")]

    def __str__(self) -> str:
        return f"{self.booked_on} {self.amount} {self.currency} {self.counterparty}"

    @property
    def is_credit(self) -> bool:
        return self.amount > 0


class Payment(TimeStamped):
    Method = PaymentMethod
    Source = PaymentSource

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(**MONEY)
    currency = currency_field()
    received_on = models.DateField()
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.BANK_TRANSFER)
    reference = models.CharField(max_length=300, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    payer_iban = models.CharField("payer IBAN", max_length=34, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    bank_entry = models.OneToOneField(
        BankEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="payment"
    )
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            currency_check("payment_currency_iso4217"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} from {self.payer_name or self.client_id} ({self.received_on})"


class PaymentAllocation(TimeStamped):
    """The part of a payment that settles one invoice."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(**MONEY)
    history = HistoricalRecords()

    class Meta:
        ordering = ["payment_id", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="paymentallocation_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} → invoice {self.invoice_id}"


class BankCsvMapping(TimeStamped):
    """Which CSV columns mean what for one bank's export, when the common header names are not enough.
    A mapping applies to a file whose header row contains every column it names."""

    name = models.CharField(max_length=100, unique=True, help_text="The bank or export, e.g. 'Sparkasse'.")
    date_column = models.CharField(max_length=100)
    amount_column = models.CharField(max_length=100, blank=True, help_text="Signed amount.")
    credit_column = models.CharField(
        max_length=100, blank=True, help_text="When credits have their own column."
    )
    debit_column = models.CharField(max_length=100, blank=True)
    currency_column = models.CharField(max_length=100, blank=True)
    counterparty_column = models.CharField(max_length=100, blank=True)
    iban_column = models.CharField(max_length=100, blank=True)
    remittance_column = models.CharField(max_length=100, blank=True)
    reference_column = models.CharField(max_length=100, blank=True)
    date_format = models.CharField(max_length=20, blank=True, help_text="strftime format, e.g. %d.%m.%Y.")
    decimal_comma = models.BooleanField(default=False)
    default_currency = currency_field()

    class Meta:
        ordering = ["name"]
        verbose_name = "bank CSV mapping"
        constraints = [
            currency_check("bankcsvmapping_currency_iso4217", "default_currency"),
            models.CheckConstraint(
                condition=~Q(amount_column="") | ~Q(credit_column=""), name="bankcsvmapping_has_amount"
            ),
        ]

    def __str__(self) -> str:
        return self.name
