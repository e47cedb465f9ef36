"""What every service shares: input normalisation, the history reason, and validated saves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

from core.currencies import currency_is_valid
from core.invoicing.identifiers import bic_normalise, country_normalise, iban_normalise, vat_id_normalise
from core.models import Client, Project

User = AbstractBaseUser | None


def email_normalise(value: str | None, *, field: str = "email", required: bool = False) -> str:
    """Trim and lower-case an address and check it is one. Blank stays blank unless required."""
    address = (value or "").strip().lower()
    if not address:
        if required:
            raise ValidationError({field: "An email address is required."})
        return ""
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({field: f"{value!r} is not a valid email address."}) from None
    return address


def currency_normalise(value: str | None, *, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if not currency_is_valid(code):
        raise ValidationError({field: f"{value!r} is not an ISO 4217 currency code (e.g. EUR, USD, SEK)."})
    return code


def decimal_parse(
    value: Any,
    *,
    field: str,
    allow_none: bool = False,
    max_digits: int | None = None,
    decimal_places: int | None = None,
) -> Decimal | None:
    """Money and quantities are Decimal, never float, never negative, and fit their column."""
    if value is None or value == "":
        if allow_none:
            return None
        raise ValidationError({field: "This value is required."})
    if isinstance(value, float):
        # A float has already lost precision; go through its shortest repr rather than its binary value.
        value = repr(value)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{value!r} is not a number."}) from None
    if not number.is_finite():
        raise ValidationError({field: "The value must be a finite number."})
    if number < 0:
        raise ValidationError({field: "The value cannot be negative."})
    if max_digits is not None and number >= Decimal(10) ** (max_digits - (decimal_places or 0)):
        raise ValidationError({field: f"The value is too large (at most {max_digits} digits)."})
    if decimal_places is not None and -min(number.normalize().as_tuple().exponent, 0) > decimal_places:
        raise ValidationError({field: f"Use at most {decimal_places} decimal places."})
    return number


_NORMALISERS = {
    "email": email_normalise,
    "operator_email": email_normalise,
    "currency": currency_normalise,
    "default_currency": currency_normalise,
    "country": country_normalise,
    "vat_id": vat_id_normalise,
    "iban": iban_normalise,
    "bic": bic_normalise,
}
_DECIMAL_FIELDS = {
    "budget",
    "estimate_hours",
    "unit_price",
    "min_units",
    "value",
    "quantity",
    "tax_rate",
    "default_tax_rate",
}


def _clean_value(field: str, value: Any) -> Any:
    if field in _NORMALISERS:
        return _NORMALISERS[field](value, field=field)
    if field in _DECIMAL_FIELDS:
        return decimal_parse(value, field=field, allow_none=True)
    return value


_history_reason: ContextVar[str | None] = ContextVar("history_reason", default=None)


@contextmanager
def history_reason(reason: str) -> Iterator[None]:
    """Name why records change (e.g. "task 3f2a…") in the history rows written inside the block.

    The ledger's commit step uses it, so a change made by the system records the task that made it.
    """
    token = _history_reason.set(reason)
    try:
        yield
    finally:
        _history_reason.reset(token)


def _stamp(instance: models.Model, by: User) -> None:
    instance._history_user = by
    reason = _history_reason.get()
    if reason:
        instance._change_reason = reason


def _save(instance: models.Model, *, by: User, update_fields: Iterable[str] | None = None) -> models.Model:
    """Validate fields, then save, recording `by` on the history row. Nothing to update writes nothing."""
    if update_fields is not None and not list(update_fields):
        return instance
    exclude = None
    if update_fields is not None:
        field_names = {f.name for f in instance._meta.concrete_fields}
        exclude = field_names - set(update_fields)
    # Constraints are checked by the database itself (and by the explicit checks in each service);
    # running their validation queries here would double the queries of every save.
    instance.full_clean(exclude=exclude, validate_constraints=False)
    _stamp(instance, by)
    if update_fields is not None:
        update_fields = set(update_fields) | ({"updated_at"} if hasattr(instance, "updated_at") else set())
    instance.save(update_fields=update_fields)
    return instance


def _upsert(
    model: type[models.Model],
    *,
    lookup: dict[str, Any],
    data: Mapping[str, Any],
    allowed: tuple[str, ...],
    by: User,
) -> tuple[models.Model, bool]:
    """Create or update the row with this natural key: (row, changed). Unchanged data writes nothing."""
    row = model.objects.select_for_update().filter(**lookup).first()
    created = row is None
    row = row or model(**lookup)
    before = {field: getattr(row, field) for field in data if field in allowed}
    _apply(row, data, allowed=allowed)
    if not created and before == {field: getattr(row, field) for field in before}:
        return row, False
    _save(row, by=by, update_fields=None if created else list(data))
    return row, True


def _apply(instance: models.Model, data: Mapping[str, Any], *, allowed: Iterable[str]) -> list[str]:
    allowed = set(allowed)
    unknown = set(data) - allowed
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    errors: dict[str, list[str]] = {}
    changed = []
    for field, raw in data.items():
        try:
            value = _clean_value(field, raw)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                errors.setdefault(key, []).extend(messages)
            continue
        setattr(instance, field, value)
        changed.append(field)
    if errors:
        raise ValidationError(errors)
    return changed


def _currency_or_default(data: dict[str, Any], client: Client) -> str:
    """An omitted currency (None) means the client's; anything given, even blank, must be valid."""
    currency = data.pop("currency", None)
    return client.default_currency if currency is None else currency_normalise(currency)


def _check_dates(start: dt.date | None, end: dt.date | None, *, end_field: str, what: str) -> None:
    if start and end and end < start:
        raise ValidationError({end_field: f"The {what} cannot be before the start."})


def _check_project_belongs(project: Project | None, client: Client) -> None:
    if project is not None and project.client_id != client.pk:
        raise ValidationError({"project": "The project belongs to another client."})
