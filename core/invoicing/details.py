"""What an invoice needs to be issued, and the parties it is issued between.

`invoice_details_missing` names every blank detail (seller and buyer) so issuing is refused with one
message that lists them all; `parties_snapshot` freezes them on the invoice at issue.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from core.invoicing.identifiers import EU_COUNTRIES
from core.models import Client, Workspace

# (field, what the operator calls it) — required of the workspace before any invoice is issued.
SELLER_REQUIRED = (
    ("legal_name", "legal name"),
    ("street", "street address"),
    ("postcode", "postcode"),
    ("city", "city"),
    ("country", "country"),
    ("vat_id", "VAT ID"),
    ("iban", "IBAN"),
)
BUYER_REQUIRED = (
    ("billing_street", "billing street address"),
    ("billing_postcode", "billing postcode"),
    ("billing_city", "billing city"),
    ("country", "country"),
)


DETAILS_MISSING = "Fill in these business details before issuing: "


def is_reverse_charge(
    *, seller_country: str, buyer_country: str, buyer_vat_id: str, seller_vat_id: str
) -> bool:
    """Cross-border B2B inside the EU, both sides identified for VAT: the buyer accounts for the VAT."""
    return bool(
        seller_vat_id
        and buyer_vat_id
        and seller_country in EU_COUNTRIES
        and buyer_country in EU_COUNTRIES
        and buyer_country != seller_country
    )


def invoice_details_missing(
    *, workspace: Workspace | None, client: Client, tax_rates: Iterable[Decimal]
) -> list[str]:
    """The business details still blank, as the operator names them ("workspace: VAT ID")."""
    if workspace is None:
        return ["workspace: name and invoice prefix"]
    missing = [f"workspace: {label}" for field, label in SELLER_REQUIRED if not getattr(workspace, field)]
    missing += [
        f"client {client.name}: {label}" for field, label in BUYER_REQUIRED if not getattr(client, field)
    ]
    zero_rated = any(rate == 0 for rate in tax_rates)
    cross_border_business = (
        client.kind == Client.Kind.ORGANISATION
        and workspace.country in EU_COUNTRIES
        and client.country in EU_COUNTRIES
        and client.country != workspace.country
    )
    if zero_rated and cross_border_business and not client.vat_id:
        # Without it a 0 % line to a business in another member state is not a valid reverse charge.
        missing.append(f"client {client.name}: VAT ID (needed for the reverse charge on 0 % lines)")
    return missing


def parties_snapshot(*, workspace: Workspace, client: Client) -> tuple[dict[str, Any], dict[str, Any]]:
    """(seller, buyer) as JSON-ready dicts, stored on the invoice when it is issued."""
    seller = {
        "name": workspace.legal_name or workspace.name,
        "trading_name": workspace.name,
        "street": workspace.street,
        "postcode": workspace.postcode,
        "city": workspace.city,
        "country": workspace.country,
        "vat_id": workspace.vat_id,
        "iban": workspace.iban,
        "bic": workspace.bic,
        "email": workspace.operator_email,
        "contact": workspace.operator_name,
        "late_payment_text": workspace.late_payment_text,
        "logo_artifact": workspace.logo_id,
    }
    buyer = {
        "name": client.name,
        "kind": client.kind,
        "street": client.billing_street,
        "postcode": client.billing_postcode,
        "city": client.billing_city,
        "country": client.country,
        "vat_id": client.vat_id,
        "email": client.email,
    }
    return seller, buyer
