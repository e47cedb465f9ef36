"""Clients and what the workspace has with each: contacts, projects and their deliverables, contracts."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models.base import (
    MONEY,
    NON_NEGATIVE,
    TimeStamped,
    currency_check,
    currency_field,
    dates_in_order_check,
    email_normalised_check,
    non_negative_check,
)
from core.states import ClientKind, ClientStatus, ContractStatus, DeliverableStatus, ProjectStatus


class Client(TimeStamped):
    Kind = ClientKind
    Status = ClientStatus

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ORGANISATION)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LEAD, db_index=True)
    email = models.EmailField(blank=True, help_text="Billing or main address; stored in lower case.")
    website = models.URLField(blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2 code.")
    # The buyer on invoices: address and VAT ID (needed for the EU reverse charge).
    billing_street = models.CharField(max_length=200, blank=True)
    billing_postcode = models.CharField(max_length=20, blank=True)
    billing_city = models.CharField(max_length=100, blank=True)
    vat_id = models.CharField(max_length=20, blank=True, verbose_name="VAT ID")
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
    Status = ProjectStatus

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED, db_index=True)
    budget = models.DecimalField(**MONEY, null=True, blank=True, validators=NON_NEGATIVE)
    currency = currency_field()
    start_date = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta(TimeStamped.Meta):
        constraints = [
            non_negative_check("project_budget_non_negative", "budget"),
            currency_check("project_currency_iso4217"),
            dates_in_order_check("project_due_after_start", "start_date", "due_date"),
        ]

    def __str__(self) -> str:
        return self.name


class ClientRecord(TimeStamped):
    """A record made for one client, within one of its projects or none: contracts, proposals, invoices.

    Django names the reverse links after the model (`client.contracts`, `project.invoices`). The client is
    protected: a client with records is closed, not deleted (its data is erased by the privacy workflow).
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="%(class)ss")
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, null=True, blank=True, related_name="%(class)ss"
    )

    class Meta(TimeStamped.Meta):
        abstract = True


class Deliverable(TimeStamped):
    Status = DeliverableStatus

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


class Contract(ClientRecord):
    Status = ContractStatus

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

    class Meta(TimeStamped.Meta):
        constraints = [
            non_negative_check("contract_value_non_negative", "value"),
            currency_check("contract_currency_iso4217"),
            dates_in_order_check("contract_end_after_start", "start_date", "end_date"),
        ]

    def __str__(self) -> str:
        return self.title
