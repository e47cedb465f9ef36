"""Clients: created, changed, deleted, and found (or made a lead) for a sender."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.models import Client
from core.selectors import client_for_address
from core.services._common import User, _apply, _save, email_normalise
from core.services.contacts import contact_create
from core.services.deletion import _delete

CLIENT_FIELDS = ("name", "kind", "status", "email", "website", "country", "default_currency", "notes")


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
    client = Client.objects.select_for_update().get(pk=client.pk)
    _delete(client, by=by, cascade=list(client.contacts.all()))


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
