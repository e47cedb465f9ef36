"""Contacts of clients."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.models import Client, Contact
from core.services._common import User, _apply, _save
from core.services.deletion import _delete

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
