"""Clients and their contacts."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from core.models.base import TimeStamped, currency_check, currency_field, email_normalised_check


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
