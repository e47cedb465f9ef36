"""Contracts with clients."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import Client, Contract
from core.services._common import (
    User,
    _apply,
    _check_dates,
    _check_project_belongs,
    _currency_or_default,
    _save,
)
from core.services.deletion import _delete

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
    _delete(Contract.objects.select_for_update().get(pk=contract.pk), by=by)
