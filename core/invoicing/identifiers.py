"""Validation of the identifiers printed on invoices: VAT IDs (python-stdnum), IBAN and BIC (schwifty),
country codes. Each returns the compact normalised form or raises a field-level ValidationError."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

# EU member states by ISO 3166 code (Greece's VAT prefix is EL, its country code GR).
EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def country_normalise(value: str | None, *, field: str = "country") -> str:
    code = (value or "").strip().upper()
    if code and not _COUNTRY.match(code):
        raise ValidationError({field: f"{value!r} is not an ISO 3166 two-letter country code (e.g. SE, DE)."})
    return code


def vat_country(vat_id: str) -> str:
    """The ISO country of a (valid, compact) EU VAT ID: EL → GR."""
    prefix = vat_id[:2]
    return "GR" if prefix == "EL" else prefix


def vat_id_normalise(value: str | None, *, field: str = "vat_id") -> str:
    """An EU VAT ID (checked by python-stdnum's eu.vat), or another country's VAT number written with
    its country prefix (NO 923 609 016 MVA, CHE-…) checked by that country's stdnum module."""
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        return eu_vat.validate(raw)
    except StdnumError as exc:
        reason = exc.message.lower().rstrip(".")
    prefix = raw[:2].upper()
    module = None if prefix in EU_COUNTRIES or prefix == "EL" else get_cc_module(prefix.lower(), "vat")
    if module is not None:
        try:
            number = module.validate(raw)
        except StdnumError as exc:
            reason = exc.message.lower().rstrip(".")
        else:
            return number if number.upper().startswith(prefix) else f"{prefix}{number}"
    raise ValidationError(
        {
            field: f"{value!r} is not a valid VAT ID ({reason}); write it with its country prefix, "
            "e.g. SE556677880801."
        }
    ) from None


def iban_normalise(value: str | None, *, field: str = "iban") -> str:
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        return IBAN(raw).compact
    except SchwiftyException as exc:
        raise ValidationError({field: f"{value!r} is not a valid IBAN ({exc})."}) from None


def bic_normalise(value: str | None, *, field: str = "bic") -> str:
    raw = (value or "").strip()
    if not raw:
        return ""
    try:
        return str(BIC(raw).compact)
    except SchwiftyException as exc:
        raise ValidationError({field: f"{value!r} is not a valid BIC ({exc})."}) from None


def iban_format(iban: str) -> str:
    """An IBAN in groups of four, as people read it."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
