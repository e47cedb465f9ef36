"""The PDF of a document: HTML from a Django template, laid out by WeasyPrint as PDF/A-3b, then the
Factur-X XML embedded and checked against the EN 16931 schema by the `factur-x` library (ADR 0017)."""

from __future__ import annotations

import base64
import logging
import re
from decimal import Decimal

import facturx
from django.template.loader import render_to_string
from weasyprint import HTML

from core.invoicing.content import CREDIT_NOTE, DocumentContent
from core.invoicing.facturx_xml import facturx_xml
from core.invoicing.identifiers import iban_format
from core.invoicing.qr import epc_qr_applies, epc_qr_svg_uri
from core.models import Artifact

COUNTRY_NAMES = {
    "AT": "Austria",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "CH": "Switzerland",
    "CY": "Cyprus",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EE": "Estonia",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "GR": "Greece",
    "HR": "Croatia",
    "HU": "Hungary",
    "IE": "Ireland",
    "IS": "Iceland",
    "IT": "Italy",
    "LI": "Liechtenstein",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "MT": "Malta",
    "NL": "Netherlands",
    "NO": "Norway",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "SE": "Sweden",
    "SI": "Slovenia",
    "SK": "Slovakia",
    "US": "United States",
}
# Both libraries log every step of every document at INFO; only their warnings belong in our logs.
for _chatty in ("weasyprint", "factur-x", "fontTools"):
    logging.getLogger(_chatty).setLevel(logging.WARNING)

LOGO_TYPES = {"image/png", "image/jpeg", "image/svg+xml", "image/gif", "image/webp"}


def _amount(value: Decimal) -> str:
    # English notation (1,234.50) whatever the server's locale: the document is in English.
    return f"{value:,.2f}"


def _quantity(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def _css_string(text: str) -> str:
    """Text for a CSS string in the template's <style> (raw text: no HTML escaping applies there)."""
    return re.sub(r'(["\\])', r"\\\1", text).replace("\n", "\\A ")


def _logo_uri(artifact_id: int | None) -> str:
    if not artifact_id:
        return ""
    artifact = Artifact.objects.filter(pk=artifact_id).first()
    if artifact is None or artifact.mime_type not in LOGO_TYPES:
        return ""
    with artifact.file.open("rb") as handle:
        data = base64.b64encode(handle.read()).decode("ascii")
    return f"data:{artifact.mime_type};base64,{data}"


def _footer(doc: DocumentContent) -> str:
    seller = doc.seller
    parts = [
        seller["name"],
        f"{seller['street']}, {seller['postcode']} {seller['city']}",
        f"VAT ID {seller['vat_id']}",
    ]
    if seller.get("iban"):
        parts.append(f"IBAN {iban_format(seller['iban'])}")
    return _css_string(" · ".join(part for part in parts if part.strip(", ")))


def document_html(doc: DocumentContent) -> str:
    seller = doc.seller
    qr_uri = ""
    if doc.type_code != CREDIT_NOTE and epc_qr_applies(
        currency=doc.currency, iban=seller.get("iban", ""), amount=doc.total
    ):
        qr_uri = epc_qr_svg_uri(
            name=seller["name"],
            iban=seller["iban"],
            bic=seller.get("bic", ""),
            amount=doc.total,
            text=doc.number,
        )
    notes = {"AE": "reverse charge", "G": "export", "E": "exempt"}
    return render_to_string(
        "invoicing/document.html",
        {
            "doc": doc,
            "rows": [
                {
                    "line": line,
                    "quantity": _quantity(line.quantity),
                    "unit_price": _amount(line.unit_price),
                    "rate": _quantity(line.tax_rate),
                    "amount": _amount(line.amount),
                }
                for line in doc.lines
            ],
            "groups": [
                {
                    "rate": _quantity(group.rate),
                    "basis": _amount(group.basis),
                    "amount": _amount(group.amount),
                    "note": notes.get(group.category, ""),
                }
                for group in doc.groups
            ],
            "subtotal": _amount(doc.subtotal),
            "total": _amount(doc.total),
            "iban": iban_format(seller.get("iban", "")),
            "seller_country": COUNTRY_NAMES.get(seller.get("country", ""), seller.get("country", "")),
            "buyer_country": COUNTRY_NAMES.get(doc.buyer.get("country", ""), doc.buyer.get("country", "")),
            "footer": _footer(doc),
            "logo_uri": _logo_uri(seller.get("logo_artifact")),
            "qr_uri": qr_uri,
        },
    )


def document_pdf(doc: DocumentContent) -> bytes:
    """The PDF/A-3b with its Factur-X XML (EN 16931) attached as factur-x.xml; the XML is checked
    against the schema before it is embedded, so an invalid one raises instead of being sent."""
    pdf = HTML(string=document_html(doc)).write_pdf(pdf_variant="pdf/a-3b", uncompressed_pdf=False)
    xml = facturx_xml(doc)
    return facturx.generate_from_binary(
        pdf,
        xml,
        flavor="factur-x",
        level="en16931",
        check_xsd=True,
        pdf_metadata={
            "author": doc.seller["name"],
            "keywords": "Factur-X, EN 16931",
            "title": f"{doc.seller['name']}: {doc.title} {doc.number}",
            "subject": f"{doc.title} {doc.number} of {doc.issue_date:%d %B %Y}",
        },
        lang="en-GB",
    )
