"""Money and the budget: a number grammar that knows `5k`, `5,000`, `5.000`, `5 000`, `8'000`,
`1.250,00`, symbols, codes and words, ranges folded to their upper bound, and budget words around an
amount; invoice, payment, rate, price and phone amounts are excluded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from agents.intake.schemas import Budget
from agents.intake.text import Hit, Source, clause_bounds
from core.currencies import CURRENCY_CODES

_NUMBER = (
    r"(?P<num>\d{1,3}(?P<sep>[.,'’ \u00a0\u202f\u2009])\d{3}(?:(?P=sep)\d{3})*(?:[.,]\d{1,2})?"
    r"|\d+(?:[.,]\d{1,2})?)(?:[.,]-{1,2})?"
)
_MULTIPLIER = r"(?:\s?(?P<mult>k|K|thousand|tsd\.?|tkr|grand|mio\.?|million|millions|m|M)\b)?"
# Prefix symbols and words that stand before the amount ("€5,000", "US$ 1,200", "CHF 8'000").
_PREFIX_SYMBOLS = {
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "us$": "USD",
    "usd$": "USD",
    "c$": "CAD",
    "ca$": "CAD",
    "cad$": "CAD",
    "a$": "AUD",
    "au$": "AUD",
    "nz$": "NZD",
    "mx$": "MXN",
    "r$": "BRL",
    "s$": "SGD",
    "hk$": "HKD",
    "$": "USD",
    "fr.": "CHF",
    "sfr.": "CHF",
    "kr": "SEK",
    "kr.": "SEK",
    "zł": "PLN",
}
# Words after the amount ("5 000 kronor", "6.500 euros"), most specific first.
_SUFFIX_WORDS = [
    (r"us\s+dollars?|american\s+dollars?", "USD"),
    (r"canadian\s+dollars?|cad\s+dollars?", "CAD"),
    (r"australian\s+dollars?", "AUD"),
    (r"swiss\s+francs?|francs?|franken", "CHF"),
    (r"mexican\s+pesos?", "MXN"),
    (r"pounds?(?:\s+sterling)?|quid", "GBP"),
    (r"dollars?|bucks", "USD"),
    (r"euros?|eur|euro", "EUR"),
    (r"kronor|kronur|krona|swedish\s+crowns?|sek", "SEK"),
    (r"norwegian\s+kroner|nok", "NOK"),
    (r"danish\s+kroner|dkk", "DKK"),
    (r"kroner", "NOK"),
    (r"kr\.?|:-", "SEK"),
    (r"yen", "JPY"),
    (r"pesos?", "MXN"),
    (r"z[lł]oty|złotych|zł", "PLN"),
    (r"rupees?", "INR"),
    (r"yuan|rmb|renminbi", "CNY"),
    (r"reais|real", "BRL"),
    (r"rand", "ZAR"),
]
# Codes written in lower case are only read as currencies for these (others are words: "all", "top").
_LOWER_CODES = frozenset(
    "eur usd gbp chf sek nok dkk jpy cad aud nzd mxn pln czk huf inr brl zar cny sgd hkd isk".split()
)
_SYMBOL_RX = "|".join(re.escape(symbol) for symbol in sorted(_PREFIX_SYMBOLS, key=len, reverse=True))
_CODE_RX = r"\b[A-Z]{3}\b|\b(?:" + "|".join(sorted(_LOWER_CODES)) + r")\b"
_SUFFIX_RX = "|".join(word for word, _ in _SUFFIX_WORDS)
MONEY = re.compile(
    rf"(?P<pre>{_SYMBOL_RX}|{_CODE_RX})?\s?{_NUMBER}{_MULTIPLIER}"
    rf"(?:\s?(?P<post>€|\$|£|¥|(?:{_CODE_RX})|(?:\b(?:{_SUFFIX_RX}))(?!\w)))?",
    re.IGNORECASE,
)
RANGE_LINK = re.compile(r"^\s*(?:-|–|—|to|bis|till|tot|à|a|up\s+to|and|och|und|et|y|e)\s*$", re.IGNORECASE)
RANGE_OPENER = re.compile(
    r"\b(?:between|zwischen|mellan|entre|tra|from|von|från|de|somewhere\s+between)\s*$", re.IGNORECASE
)

BUDGET_BEFORE = re.compile(
    r"\b(?:budget\w*|spend|spending|set\s+aside|put\s+aside|earmarked|afford|invest|investment|allocated?|"
    r"up\s+to|max(?:imum)?|no\s+more\s+than|not\s+more\s+than|at\s+most|around|about|roughly|approx\w*|"
    r"ca\.?|circa|between|range|ballpark|we\s+have|i\s+have|we've\s+got|can\s+pay|willing\s+to\s+pay|"
    r"could\s+pay|in\s+mind|total|somewhere|under|below|budgetrahmen|rahmen|ungefär|omkring|environ|"
    r"presupuesto|thinking|considering|aiming\s+for|target\w*|looking\s+at|expect\w*)\b[^.!?\n]{0,40}$",
    re.IGNORECASE,
)
BUDGET_AFTER = re.compile(
    r"^[^.!?\n]{0,30}\b(?:budget|max(?:imum)?|tops|at\s+most|for\s+(?:the\s+)?(?:whole|entire|everything|"
    r"all\s+of\s+it|project|this|it|both)|in\s+total|total|all\s+in|available|to\s+spend)\b",
    re.IGNORECASE,
)
NOT_BUDGET = re.compile(
    r"\b(?:invoice\w*|paid|pay\s+(?:it|the|this|that|invoice)|payment\w*|transfer\w*|remittance|refund\w*|"
    r"owe|owed|outstanding|overdue|balance|charged?|charges|fee\s+of\s+your|your\s+(?:rate|fee|price)s?|"
    r"rates?|hourly|per\s+(?:hour|day|word)|an?\s+hour|a\s+day|day\s+rate|/\s?(?:h|hr|hour|day)\b|revenue|"
    r"turnover|sales|sell\w*|priced\s+at|retail|salary|salaries|quoted|last\s+(?:agency|designer|year|time)|"
    r"previous|competitor|another\s+agency|other\s+agency|vat|tax|deposit|phone|tel\.?|mobile|fax|call\s+me)\b",
    re.IGNORECASE,
)
NOT_AN_AMOUNT_AFTER = re.compile(
    r"^\s?(?:%|percent|pages?|products?|items?|people|persons|employees|staff|visitors|users|customers|"
    r"clients|years?|months?|weeks?|days?|hours?|minutes?|words?|pieces?|illustrations?|icons?|m2|sqm|"
    r"square|km|kilometers|miles|locations?|shops|stores|x\b|times\b|sku)",
    re.IGNORECASE,
)


@dataclass
class Amount:
    value: Decimal
    currency: str | None
    start: int
    end: int
    factor: Decimal  # the multiplier written with it ("k" → 1000), 1 when none


def _number_value(text: str, separator: str | None) -> Decimal | None:
    """A written number as a Decimal: thousands separators and a decimal comma or point understood."""
    raw = text.strip()
    if separator:
        # "5,000", "5.000", "8'000", "1.250,00": the grouping separator, then maybe decimals.
        head, tail = raw, ""
        decimal_match = re.search(r"[.,](\d{1,2})$", raw)
        if decimal_match and raw[decimal_match.start()] != separator:
            head, tail = raw[: decimal_match.start()], decimal_match.group(1)
        digits = re.sub(r"\D", "", head)
        raw = f"{digits}.{tail}" if tail else digits
    else:
        raw = raw.replace(",", ".")
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


_MULTIPLIERS = {"k": 1000, "thousand": 1000, "tsd": 1000, "tsd.": 1000, "tkr": 1000, "grand": 1000}
_MILLIONS = {"m", "mio", "mio.", "million", "millions"}


def _domain_currency(currency: str, sender_email: str) -> str:
    """ "$" and "kr" mean different currencies in different countries: the sender's domain decides."""
    tld = sender_email.rsplit(".", 1)[-1].lower() if "." in sender_email else ""
    if currency == "USD":
        return {"ca": "CAD", "au": "AUD", "nz": "NZD", "mx": "MXN", "sg": "SGD", "hk": "HKD"}.get(tld, "USD")
    if currency == "SEK":
        return {"no": "NOK", "dk": "DKK", "is": "ISK"}.get(tld, "SEK")
    if currency == "JPY" and tld == "cn":
        return "CNY"
    if currency == "MXN":
        return {"ar": "ARS", "co": "COP", "cl": "CLP"}.get(tld, "MXN")
    return currency


def _currency_of(token: str | None, sender_email: str) -> str | None:
    if not token:
        return None
    folded = token.strip().lower()
    if folded in _PREFIX_SYMBOLS:
        code = _PREFIX_SYMBOLS[folded]
        ambiguous = folded in {"$", "kr", "kr.", "¥"}
        return _domain_currency(code, sender_email) if ambiguous else code
    if token.isupper() and token in CURRENCY_CODES:
        return token
    if folded in _LOWER_CODES:
        return folded.upper()
    for pattern, code in _SUFFIX_WORDS:
        if re.fullmatch(pattern, folded):
            ambiguous = code in {"SEK", "USD", "MXN"} and folded in {
                "kr",
                "kr.",
                ":-",
                "dollars",
                "dollar",
                "pesos",
                "peso",
                "bucks",
            }
            return _domain_currency(code, sender_email) if ambiguous else code
    return None


_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_UNITS = {
    "a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
WORD_MONEY = re.compile(
    rf"\b(?P<tens>{'|'.join(_TENS)})?[-\s]?(?P<unit>{'|'.join(sorted(_UNITS, key=len, reverse=True))})?\s+"
    rf"(?P<scale>hundred|thousand|grand)(?:\s+(?P<post>(?:{_SUFFIX_RX})(?!\w)|{_CODE_RX}))?",
    re.IGNORECASE,
)


def _word_amounts(text: str, sender_email: str) -> list[Amount]:
    """Amounts in words: "five thousand euros", "twenty-five thousand dollars"."""
    found = []
    for match in WORD_MONEY.finditer(text):
        if not (match.group("tens") or match.group("unit")):
            continue
        number = _TENS.get((match.group("tens") or "").lower(), 0) + _UNITS.get(
            (match.group("unit") or "").lower(), 0
        )
        factor = Decimal(100 if match.group("scale").lower() == "hundred" else 1000)
        currency = _currency_of(match.group("post"), sender_email)
        end = match.end() if currency else match.end("scale")
        found.append(Amount(Decimal(number) * factor, currency, match.start(), end, factor))
    return found


def amounts_in(text: str, sender_email: str = "") -> list[Amount]:
    """Every amount of money (or bare number) in `text`, ranges folded to their upper bound."""
    found: list[Amount] = []
    for match in MONEY.finditer(text):
        start, end = match.start(), match.end()
        number_start = match.start("num")
        before_char = text[number_start - 1] if number_start > 0 else " "
        # Part of a code, a date or a phone number: "NW-2026-0042", "15.02.2027", "+46 70 123".
        if re.match(r"[\w#/+]", before_char) and not match.group("pre"):
            continue
        if re.match(r"[A-Za-z]-$", text[max(0, number_start - 2) : number_start]):
            continue
        following = text[match.end("num") : match.end("num") + 2]
        if re.match(r"[-/.:]\d|\d", following) or re.match(r"[-–]\d{3,}", following):
            continue
        value = _number_value(match.group("num"), match.group("sep"))
        if value is None:
            continue
        multiplier = (match.group("mult") or "").lower()
        factor = Decimal(1)
        if multiplier in _MILLIONS:
            factor = Decimal(1_000_000)
        elif multiplier:
            factor = Decimal(_MULTIPLIERS.get(multiplier, 1000))
        value *= factor
        currency = _currency_of(match.group("pre"), sender_email) or _currency_of(
            match.group("post"), sender_email
        )
        if currency is None and multiplier == "tkr":  # "tkr" is Swedish for "thousand kronor"
            currency = "SEK"
        if (
            currency is None
            or not match.group("pre")
            or _currency_of(match.group("pre"), sender_email) is None
        ):
            start = match.start("num")  # no currency before the number: the match began at a space
        post = match.group("post")
        if post and _currency_of(post, sender_email) is None:
            end = match.end("mult") if match.group("mult") else match.end("num")
        # "m" alone is metres or minutes more often than millions: only with a currency.
        if multiplier in {"m"} and currency is None:
            continue
        found.append(Amount(value, currency, start, end, factor))
    found.extend(_word_amounts(text, sender_email))
    found.sort(key=lambda amount: amount.start)
    return _fold_ranges(text, found)


def _fold_ranges(text: str, amounts: list[Amount]) -> list[Amount]:
    """ "4,000–6,000 EUR", "between 4k and 6k", "5-7k €": one amount, the upper bound."""
    folded: list[Amount] = []
    index = 0
    while index < len(amounts):
        current = amounts[index]
        following = amounts[index + 1] if index + 1 < len(amounts) else None
        if following is not None and RANGE_LINK.match(text[current.end : following.start]):
            link = text[current.end : following.start].strip().lower()
            opener = RANGE_OPENER.search(text[max(0, current.start - 25) : current.start])
            # "and" joins a range only after "between"; otherwise it joins two separate amounts.
            if link not in {"and", "och", "und", "et", "y", "e"} or opener:
                low = current.value
                if (
                    following.factor != 1
                    and current.factor == 1
                    and low * following.factor <= following.value
                ):
                    low *= following.factor  # "5-7k": the upper bound's multiplier applies to both
                upper = max(low, following.value)
                currency = following.currency or current.currency
                folded.append(Amount(upper, currency, current.start, following.end, following.factor))
                index += 2
                continue
        folded.append(current)
        index += 1
    return folded


def _is_year(amount: Amount, text: str) -> bool:
    written = text[amount.start : amount.end].strip()
    return bool(re.fullmatch(r"(?:19|20)\d{2}", written))


# Budget words without an anchor, to tell which of a budget word and a non-budget word is nearer.
BUDGET_WORDS = re.compile(
    r"\b(?:budget\w*|spend|spending|set\s+aside|put\s+aside|earmarked|afford|invest|allocated?|"
    r"up\s+to|max(?:imum)?|no\s+more\s+than|at\s+most|presupuesto|rahmen)\b",
    re.IGNORECASE,
)
BARE_BUDGET_BEFORE = re.compile(
    r"\b(?:budget\w*|spend|set\s+aside|afford|up\s+to|max(?:imum)?|presupuesto)\b[^.!?\n]{0,20}$",
    re.IGNORECASE,
)
TOTAL_WORDS = re.compile(r"\b(?:total|everything|whole|entire|all\s+in|overall|altogether)\b", re.IGNORECASE)


@dataclass
class BudgetFound:
    budget: Budget
    hit: Hit
    confidence: float
    stated: bool  # said with a budget word ("budget", "spend", "up to"…), not only an amount of money


def _is_excluded(text: str, amount: Amount, left: int, right: int) -> bool:
    """An invoice, payment, rate, price or phone amount: a non-budget word right before the amount
    with no budget word between them, or right after it ("€80 per hour")."""
    before = text[max(left, amount.start - 45) : amount.start]
    negatives = list(NOT_BUDGET.finditer(before))
    if negatives:
        last_negative = negatives[-1].end()
        if not any(match.start() >= last_negative for match in BUDGET_WORDS.finditer(before)):
            return True
    return bool(NOT_BUDGET.search(text[amount.end : min(right, amount.end + 15)]))


def find_budget(sources: list[Source], *, sender_email: str, default_currency: str) -> BudgetFound | None:
    """What the client says they can spend: amounts with budget words around them, never invoices."""
    candidates: list[tuple[float, Decimal, Amount, Source]] = []
    mail_currencies: list[str] = []
    for source in sources:
        text = source.text
        for amount in amounts_in(text, sender_email):
            if amount.currency:
                mail_currencies.append(amount.currency)
            left, right = clause_bounds(text, amount.start, amount.end)
            before = text[max(left, amount.start - 60) : amount.start]
            after = text[amount.end : min(right, amount.end + 40)]
            if (
                amount.value <= 0
                or NOT_AN_AMOUNT_AFTER.match(after)
                or _is_excluded(text, amount, left, right)
            ):
                continue
            # A bare number is a budget only right after a budget word, and a year never is.
            if amount.currency is None and (
                not BARE_BUDGET_BEFORE.search(before) or _is_year(amount, text) or amount.value < 50
            ):
                continue
            positive = bool(BUDGET_BEFORE.search(before)) + bool(BUDGET_AFTER.search(after))
            score = (
                positive * 2
                + (1 if amount.currency else 0)
                + (0.5 if TOTAL_WORDS.search(text[left:right]) else 0)
            )
            candidates.append((score, amount.value, amount, source))
    if not candidates:
        return None
    # The best-supported amount; between equals the larger (a total rather than one of its parts).
    score, _, amount, source = max(candidates, key=lambda item: (item[0], item[1]))
    currency = amount.currency or (mail_currencies[0] if mail_currencies else default_currency)
    if not currency:
        return None
    confidence = 0.55 + 0.1 * min(score, 4) - (0.15 if amount.currency is None else 0)
    return BudgetFound(
        budget=Budget(amount=f"{amount.value.quantize(Decimal('0.01'))}", currency=currency),
        hit=Hit(source.origin, amount.start, amount.end, source.text[amount.start : amount.end]),
        confidence=round(min(0.95, confidence), 2),
        stated=score >= 2,
    )
