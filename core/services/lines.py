"""Priced lines, shared by proposals and invoices: parsed, rounded, and summed into their document."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.db.models.functions import Coalesce

from core.currencies import money_round
from core.models import Invoice, InvoiceLine, MoneyLine, Proposal, ProposalLine
from core.services._common import User, _save, _stamp, decimal_parse

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LineData:
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = ""
    service_key: str = ""
    tax_rate: Decimal = Decimal("0")

    @classmethod
    def parse(cls, raw: Mapping[str, Any], *, index: int = 0) -> LineData:
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        for field, optional in (("quantity", False), ("unit_price", False), ("tax_rate", True)):
            column = MoneyLine._meta.get_field(field)
            try:
                parsed = decimal_parse(
                    raw.get(field),
                    field=field,
                    allow_none=optional,
                    max_digits=column.max_digits,
                    decimal_places=column.decimal_places,
                )
                values[field] = parsed if parsed is not None else Decimal("0")
            except ValidationError as exc:
                errors.setdefault(f"lines.{index}.{field}", []).extend(exc.message_dict[field])
        description = str(raw.get("description") or "").strip()
        if not description:
            errors.setdefault(f"lines.{index}.description", []).append("Each line needs a description.")
        if "tax_rate" in values and values["tax_rate"] > 100:
            errors.setdefault(f"lines.{index}.tax_rate", []).append("A tax rate is a percentage up to 100.")
        if errors:
            raise ValidationError(errors)
        return cls(
            description=description,
            unit=str(raw.get("unit") or ""),
            service_key=str(raw.get("service_key") or ""),
            **values,
        )

    @classmethod
    def of(cls, line: MoneyLine) -> LineData:
        """An existing line's content, to carry into another document (a re-issue, an invoice from a
        proposal)."""
        return cls(**{field.name: getattr(line, field.name) for field in fields(cls)})


def line_amounts(*, quantity: Decimal, unit_price: Decimal, tax_rate: Decimal) -> tuple[Decimal, Decimal]:
    """The line amount and its tax, rounded half up to cents exactly as the database checks them."""
    amount = money_round(quantity * unit_price)
    return amount, money_round(amount * tax_rate / 100)


def _line_fill(line: ProposalLine | InvoiceLine, data: LineData, position: int) -> None:
    line.position = position
    line.description = data.description
    line.quantity = data.quantity
    line.unit = data.unit
    line.unit_price = data.unit_price
    line.service_key = data.service_key
    line.tax_rate = data.tax_rate
    line.amount, line.tax_amount = line_amounts(
        quantity=data.quantity, unit_price=data.unit_price, tax_rate=data.tax_rate
    )


def _document_recompute_totals(document: Proposal | Invoice, *, by: User) -> None:
    """Totals are the database's own Decimal sums of the stored lines."""
    sums = document.lines.aggregate(
        subtotal=Coalesce(Sum("amount"), ZERO), tax_total=Coalesce(Sum("tax_amount"), ZERO)
    )
    document.subtotal = sums["subtotal"]
    document.tax_total = sums["tax_total"]
    document.total = document.subtotal + document.tax_total
    _save(document, by=by, update_fields=["subtotal", "tax_total", "total"])


def _parse_lines(lines: Iterable[Mapping[str, Any] | LineData]) -> list[LineData]:
    parsed: list[LineData] = []
    errors: dict[str, list[str]] = {}
    for index, raw in enumerate(lines):
        try:
            parsed.append(raw if isinstance(raw, LineData) else LineData.parse(raw, index=index))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return parsed


def _lines_replace(document: Proposal | Invoice, line_model, lines, *, by: User) -> None:
    parsed = _parse_lines(lines)
    for old in document.lines.all():
        _stamp(old, by)
        old.delete()
    for position, data in enumerate(parsed, start=1):
        line = line_model(**{line_model._meta.get_field(document._meta.model_name).name: document})
        _line_fill(line, data, position)
        _save(line, by=by)
    _document_recompute_totals(document, by=by)


def _line_delete(line: ProposalLine | InvoiceLine, document: Proposal | Invoice, *, by: User) -> None:
    _stamp(line, by)
    line.delete()
    _document_recompute_totals(document, by=by)


def _line_save(line: ProposalLine | InvoiceLine, document: Proposal | Invoice, *, by: User) -> None:
    data = LineData.parse(
        {
            f: getattr(line, f)
            for f in ("description", "quantity", "unit_price", "unit", "service_key", "tax_rate")
        }
    )
    _line_fill(line, data, line.position or document.lines.count() + 1)
    _save(line, by=by)
    _document_recompute_totals(document, by=by)
