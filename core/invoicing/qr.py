"""The EPC QR code ("GiroCode", SEPA credit transfer) a banking app scans to fill in the transfer: the
payee's name and IBAN, the amount in euro and the invoice number as the remittance text."""

from __future__ import annotations

from decimal import Decimal

import segno
from segno import helpers

# The EPC069-12 limits: amounts from 0.01 to 999,999,999.99 euro, a name of at most 70 characters.
EPC_MAX_AMOUNT = Decimal("999999999.99")


def epc_qr_applies(*, currency: str, iban: str, amount: Decimal) -> bool:
    return currency == "EUR" and bool(iban) and Decimal("0.01") <= amount <= EPC_MAX_AMOUNT


def epc_qr_svg_uri(*, name: str, iban: str, bic: str, amount: Decimal, text: str) -> str:
    """The code as an SVG data URI (vector, so it stays sharp in the PDF and scans at any zoom)."""
    code: segno.QRCode = helpers.make_epc_qr(
        name=name[:70], iban=iban, amount=amount, text=text[:140], bic=bic or None
    )
    return code.svg_data_uri(scale=4, border=0)
