"""Clients and what the workspace has with each: contacts, projects and their deliverables, contracts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.models import Client, Contact, Contract, Deliverable, Project
from core.selectors import client_for_address
from core.services._common import (
    User,
    _apply,
    _check_dates,
    _check_project_belongs,
    _currency_or_default,
    _save,
    email_normalise,
)
from core.services.deletion import _delete

CLIENT_FIELDS = (
    "name",
    "kind",
    "status",
    "email",
    "website",
    "country",
    "billing_street",
    "billing_postcode",
    "billing_city",
    "vat_id",
    "default_currency",
    "notes",
)


@transaction.atomic
def client_create(*, by: User, name: str, **data: Any) -> Client:
    client = Client()
    _apply(client, {"name": (name or "").strip(), **data}, allowed=CLIENT_FIELDS)
    if not client.name:
        raise ValidationError({"name": "A client needs a name."})
    return _save(client, by=by)


@transaction.atomic
def client_update(*, client: Client, by: User, **data: Any) -> Client:
    changed = _apply(client, data, allowed=CLIENT_FIELDS)
    if "name" in changed:
        client.name = (client.name or "").strip()
        if not client.name:
            raise ValidationError({"name": "A client needs a name."})
    return _save(client, by=by, update_fields=changed)


@transaction.atomic
def client_delete(*, client: Client, by: User) -> None:
    _delete(client, by=by, cascade="contacts")


@transaction.atomic
def client_for_sender(*, email: str, name: str = "", company: str = "", by: User) -> tuple[Client, bool]:
    """The client a sender belongs to (by contact or client address), or a new lead with them as its
    primary contact: (client, created)."""
    address = email_normalise(email, field="email", required=True)
    client = client_for_address(email=address)
    if client is not None:
        return client, False
    person = (name or "").strip() or address.split("@")[0]
    organisation = (company or "").strip()
    client = client_create(
        by=by,
        name=organisation or person,
        kind=Client.Kind.ORGANISATION if organisation else Client.Kind.PERSON,
        status=Client.Status.LEAD,
        email=address,
    )
    contact_create(client=client, by=by, name=person, email=address, is_primary=True)
    return client, True


CONTACT_FIELDS = ("name", "email", "role", "phone", "is_primary")


def _contact_check(contact: Contact) -> None:
    if not contact.email:
        raise ValidationError({"email": "A contact needs an email address."})
    clash = Contact.objects.filter(client_id=contact.client_id, email=contact.email).exclude(pk=contact.pk)
    if clash.exists():
        raise ValidationError({"email": f"{contact.email} is already a contact of this client."})


def _contact_make_only_primary(contact: Contact, *, by: User) -> None:
    for other in (
        Contact.objects.select_for_update()
        .filter(client_id=contact.client_id, is_primary=True)
        .exclude(pk=contact.pk)
    ):
        other.is_primary = False
        _save(other, by=by, update_fields=["is_primary"])


@transaction.atomic
def contact_create(*, client: Client, by: User, name: str, email: str, **data: Any) -> Contact:
    contact = Contact(client=client)
    _apply(contact, {"name": name, "email": email, **data}, allowed=CONTACT_FIELDS)
    _contact_check(contact)
    if contact.is_primary:
        _contact_make_only_primary(contact, by=by)
    return _save(contact, by=by)


@transaction.atomic
def contact_update(*, contact: Contact, by: User, **data: Any) -> Contact:
    changed = _apply(contact, data, allowed=CONTACT_FIELDS)
    _contact_check(contact)
    if contact.is_primary and "is_primary" in changed:
        _contact_make_only_primary(contact, by=by)
    return _save(contact, by=by, update_fields=changed)


@transaction.atomic
def contact_delete(*, contact: Contact, by: User) -> None:
    _delete(contact, by=by)


PROJECT_FIELDS = ("name", "status", "budget", "currency", "start_date", "due_date", "description")


@transaction.atomic
def project_create(*, client: Client, by: User, name: str, **data: Any) -> Project:
    project = Project(client=client, currency=_currency_or_default(data, client))
    _apply(project, {"name": name, **data}, allowed=PROJECT_FIELDS)
    _check_dates(project.start_date, project.due_date, end_field="due_date", what="due date")
    return _save(project, by=by)


@transaction.atomic
def project_update(*, project: Project, by: User, **data: Any) -> Project:
    changed = _apply(project, data, allowed=PROJECT_FIELDS)
    _check_dates(project.start_date, project.due_date, end_field="due_date", what="due date")
    return _save(project, by=by, update_fields=changed)


DELIVERABLE_FIELDS = ("title", "status", "due_date", "estimate_hours")


@transaction.atomic
def deliverable_create(*, project: Project, by: User, title: str, **data: Any) -> Deliverable:
    deliverable = Deliverable(project=project)
    _apply(deliverable, {"title": title, **data}, allowed=DELIVERABLE_FIELDS)
    return _save(deliverable, by=by)


@transaction.atomic
def deliverable_update(*, deliverable: Deliverable, by: User, **data: Any) -> Deliverable:
    changed = _apply(deliverable, data, allowed=DELIVERABLE_FIELDS)
    return _save(deliverable, by=by, update_fields=changed)


@transaction.atomic
def project_delete(*, project: Project, by: User) -> None:
    _delete(project, by=by, cascade="deliverables")


@transaction.atomic
def deliverable_delete(*, deliverable: Deliverable, by: User) -> None:
    _delete(deliverable, by=by)


# In the order the back office shows them.
CONTRACT_FIELDS = (
    "title",
    "project",
    "status",
    "value",
    "currency",
    "start_date",
    "end_date",
    "signed_at",
    "document",
    "terms",
)


@transaction.atomic
def contract_create(*, client: Client, by: User, title: str, **data: Any) -> Contract:
    contract = Contract(client=client, currency=_currency_or_default(data, client))
    _apply(contract, {"title": title, **data}, allowed=CONTRACT_FIELDS)
    _check_project_belongs(contract.project, client)
    _check_dates(contract.start_date, contract.end_date, end_field="end_date", what="end date")
    return _save(contract, by=by)


@transaction.atomic
def contract_update(*, contract: Contract, by: User, **data: Any) -> Contract:
    changed = _apply(contract, data, allowed=CONTRACT_FIELDS)
    _check_project_belongs(contract.project, contract.client)
    _check_dates(contract.start_date, contract.end_date, end_field="end_date", what="end date")
    return _save(contract, by=by, update_fields=changed)


@transaction.atomic
def contract_delete_draft(*, contract: Contract, by: User) -> None:
    _delete(contract, by=by)
