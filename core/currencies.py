"""ISO 4217 currency codes in active use, and how money is rounded.

Kept in the code (not a dependency) because the list is short, changes once in years, and is also
written into a database CHECK constraint by a migration.
"""

from decimal import ROUND_HALF_UP, Decimal

CURRENCY_CODES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
    GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
    STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG
    XOF XPF YER ZAR ZMW ZWG
    """.split()
)


def currency_is_valid(code: str) -> bool:
    return code in CURRENCY_CODES


def money_round(amount: Decimal, *, places: int = 2) -> Decimal:
    """Round half up to `places` decimals, the way invoices are rounded."""
    return amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
