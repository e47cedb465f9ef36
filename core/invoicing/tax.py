"""The VAT breakdown of an invoice: lines grouped by EN 16931 VAT category and rate, with the note each
category needs (reverse charge, export, exemption)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.invoicing.details import is_reverse_charge
from core.invoicing.identifiers import EU_COUNTRIES

REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT is due from the recipient (Article 196, Council Directive 2006/112/EC)."
)
EXPORT_NOTE = "VAT not charged: services supplied to a customer outside the EU."
EXEMPT_NOTE = "VAT exempt."


@dataclass(frozen=True)
class TaxGroup:
    """One row of the VAT breakdown: UNTDID 5305 category, rate, taxable basis and VAT."""

    category: str
    rate: Decimal
    basis: Decimal
    amount: Decimal
    exemption_code: str = ""
    exemption_reason: str = ""


def tax_category(
    *, rate: Decimal, seller: Mapping[str, Any], buyer: Mapping[str, Any]
) -> tuple[str, str, str]:
    """(category, VATEX code, reason) of a line at `rate` between these parties."""
    if rate > 0:
        return "S", "", ""
    if is_reverse_charge(
        seller_country=seller.get("country", ""),
        buyer_country=buyer.get("country", ""),
        seller_vat_id=seller.get("vat_id", ""),
        buyer_vat_id=buyer.get("vat_id", ""),
    ):
        return "AE", "VATEX-EU-AE", REVERSE_CHARGE_NOTE
    if buyer.get("country") and buyer.get("country") not in EU_COUNTRIES:
        return "G", "VATEX-EU-G", EXPORT_NOTE
    return "E", "", EXEMPT_NOTE


def tax_groups(
    *, lines: Iterable[Any], seller: Mapping[str, Any], buyer: Mapping[str, Any]
) -> list[TaxGroup]:
    """The breakdown by (category, rate), in rate order. Amounts are the sums of the stored line
    amounts, so the document's totals are exactly the invoice's."""
    groups: dict[tuple[str, Decimal], list[Decimal]] = {}
    reasons: dict[tuple[str, Decimal], tuple[str, str]] = {}
    for line in lines:
        category, code, reason = tax_category(rate=line.tax_rate, seller=seller, buyer=buyer)
        key = (category, line.tax_rate)
        basis, amount = groups.setdefault(key, [Decimal("0.00"), Decimal("0.00")])
        groups[key] = [basis + line.amount, amount + line.tax_amount]
        reasons[key] = (code, reason)
    return [
        TaxGroup(category, rate, basis, amount, *reasons[(category, rate)])
        for (category, rate), (basis, amount) in sorted(
            groups.items(), key=lambda item: (-item[0][1], item[0][0])
        )
    ]
