"""A payment the sender says was made: the statement itself ("we transferred…", "remittance advice",
"überwiesen"), not a question about paying or a promise to pay; then its amount, currency and date.

The amount is the total when the mail gives one (a remittance advice lists each invoice and the total),
else the amount said in the same sentence as the payment, else the only amount in the mail. The date is
the one written next to the payment, or a relative day ("today", "yesterday", "on Monday") resolved
against the mail's Date header; a payment the mail announces without a day was made by the time it was
written, so the Date header's day stands.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from agents.intake.dates import DATE_PATTERNS, MONTHS
from agents.intake.money import amounts_in
from agents.intake.schemas import Payment
from agents.intake.text import Hit, Source, clause_bounds, find_hits


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{alternative})" for alternative in alternatives), re.IGNORECASE)


# The sender (or their bank) says money went out: past tense, or a remittance advice.
PAID = _rx(
    r"\b(?:we|i|they|our\s+(?:bank|accounts?|finance\s+team|accounting))\s*(?:'ve|\s+have|\s+has|\s+just|"
    r"\s+already|\s+today|\s+yesterday|\s+this\s+morning)*\s+(?:paid|transferred|sent|wired|remitted|"
    r"settled|made|initiated|released|processed|scheduled)\b(?!\s+(?:you\s+)?(?:the\s+)?(?:signed|contract|files?|"
    r"brief|logo|photos?|documents?|feedback|assets|details|copy|draft))",
    r"\b(?:payment|transfer|remittance|wire|bank\s+transfer|the\s+money|the\s+amount|the\s+invoice|"
    r"invoice\s+\S+|it)(?:\s+(?:of|for)\s+\S+(?:\s+[A-Za-z]{3}\b)?)?\s+(?:has|have|was|were|is|got)\s+(?:now\s+|just\s+|already\s+|been\s+)*(?:been\s+)?"
    r"(?:paid|sent|made|transferred|wired|settled|initiated|released|processed|executed|booked|approved\s+for\s+payment)\b",
    r"\bremittance\s+advice\b|\bpayment\s+advice\b|\bproof\s+of\s+payment\b|\bpayment\s+confirmation\b",
    r"\btotal\s+(?:paid|remitted|transferred)\b|\bamount\s+(?:paid|remitted|transferred)\b",
    r"\b(?:just\s+)?paid\s+(?:invoice|the\s+invoice|your\s+invoice|it|today|yesterday|in\s+full)\b",
    r"\bpayment\s+sent\b|\bpaid\s*[:!]",
    # German, French, Swedish, Spanish, Italian, Dutch
    r"\b(?:haben|habe|wurde|wurden|ist|sind)\s+(?:\w+\s+){0,4}(?:überwiesen|bezahlt|beglichen|angewiesen)\b",
    r"\b(?:überweisung|zahlung)\s+(?:ist\s+|wurde\s+)?(?:erfolgt|veranlasst|ausgeführt|getätigt|raus)\b",
    r"\bzahlungsavis\b|\bzahlungsbestätigung\b",
    r"\b(?:nous\s+avons|j'ai)\s+(?:\w+\s+){0,2}(?:payé|réglé|viré|versé)\b|\bvirement\s+(?:a\s+été\s+)?effectué\b|"
    r"\bavis\s+de\s+(?:paiement|virement)\b",
    r"\b(?:vi|jag)\s+har\s+(?:\w+\s+){0,2}(?:betalat|överfört|skickat\s+betalningen)\b|\bbetalningen\s+(?:är\s+)?"
    r"(?:gjord|skickad|genomförd)\b|\bbetalningsavi\b",
    r"\b(?:hemos|he)\s+(?:\w+\s+){0,2}(?:pagado|transferido|abonado)\b|\baviso\s+de\s+pago\b",
    r"\babbiamo\s+(?:\w+\s+){0,2}(?:pagato|saldato|bonificato)\b|\bavviso\s+di\s+pagamento\b",
    r"\b(?:we\s+hebben|ik\s+heb)\s+(?:\w+\s+){0,3}(?:betaald|overgemaakt)\b|\bbetalingsadvies\b",
)
# The same words denied, asked or promised: no payment was made.
NOT_PAID_BEFORE = re.compile(
    r"(?:\b(?:not|n't|never|no|yet\s+to|before|until|once|when|if|will|shall|going\s+to|plan\s+to|"
    r"can|could|would|should|cannot|unable\s+to|nicht|noch\s+nicht|pas|inte|no\s+hemos|non)\s+"
    r"(?:\w+\s+){0,3})$",
    re.IGNORECASE,
)
NOT_PAID_AFTER = re.compile(r"^\s*(?:yet\b|\?|soon\b|next\s+week|tomorrow)", re.IGNORECASE)
TOTAL = re.compile(r"\b(?:total|sum|gesamt\w*|summe|totalt|totale|montant\s+total|importe\s+total)\b", re.I)
_TODAY = re.compile(
    r"\b(?:today|this\s+morning|this\s+afternoon|just\s+now|heute|aujourd'hui|idag|hoy|oggi|vandaag)\b", re.I
)
_YESTERDAY = re.compile(r"\b(?:yesterday|gestern|hier|igår|ayer|ieri|gisteren)\b", re.I)
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY = re.compile(rf"\b(?:on\s+|last\s+)({'|'.join(_WEEKDAYS)})\b", re.I)


@dataclass
class PaymentFound:
    payment: Payment | None
    hit: Hit


def payment_hits(sources: list[Source]) -> list[Hit]:
    """The places where the mail says a payment was made (denials, questions and promises left out)."""
    hits = []
    for hit in find_hits(PAID, sources):
        text = next(source.text for source in sources if source.origin == hit.origin)
        before = text[max(0, hit.start - 60) : hit.start]
        if NOT_PAID_BEFORE.search(before):
            continue
        if NOT_PAID_AFTER.match(text[hit.end : hit.end + 20]):
            continue
        hits.append(hit)
    return hits


def _past(day: dt.date, reference: dt.date) -> dt.date:
    """A date written without a year is the last one on or before the mail."""
    return day.replace(year=day.year - 1) if day > reference else day


def _explicit_date(text: str, reference: dt.date) -> tuple[int, dt.date] | None:
    """The first written date in `text` (ISO, day-first numeric, day or month names): (position, date)."""
    found: list[tuple[int, dt.date]] = []
    for kind, pattern in DATE_PATTERNS:
        if kind not in {"iso", "numeric", "numeric_no_year", "dmy", "mdy"}:
            continue
        for match in pattern.finditer(text):
            groups = match.groupdict()
            month = groups["m"]
            month_number = int(month) if month.isdigit() else MONTHS.get(month.lower().rstrip("."))
            year = groups.get("y")
            if year is not None and len(year) == 2:
                year = "20" + year
            try:
                day = dt.date(int(year or reference.year), month_number or 0, int(groups["d"]))
            except (TypeError, ValueError):
                continue
            found.append((match.start(), day if year else _past(day, reference)))
    return min(found, key=lambda item: item[0]) if found else None


def _line(text: str, at: int) -> str:
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    return text[start : end if end >= 0 else len(text)]


def _clause(text: str, start: int, end: int) -> str:
    left, right = clause_bounds(text, start, end)
    return text[left:right]


def _paid_on(places: list[str], reference: dt.date) -> dt.date:
    """The day of the payment: a date written in the nearest of `places` (the amount's line, the
    payment's line, then their sentences), else a relative day said with it, else the mail's day."""
    for text in places:
        explicit = _explicit_date(text, reference)
        # A date after the mail is a due date or a value date to come, not the day it was paid.
        if explicit is not None and explicit[1] <= reference + dt.timedelta(days=1):
            return explicit[1]
    said = "\n".join(places)
    if _YESTERDAY.search(said):
        return reference - dt.timedelta(days=1)
    weekday = _WEEKDAY.search(said)
    if weekday is not None:
        back = (reference.weekday() - _WEEKDAYS.index(weekday.group(1).lower())) % 7
        return reference - dt.timedelta(days=back or 7)
    return reference  # "today", or no day said: paid by the time the mail was written


def find_payment(
    sources: list[Source], *, hits: list[Hit], sender_email: str, default_currency: str, reference: dt.date
) -> PaymentFound | None:
    """The payment the mail reports (amount, currency, date), or None when it reports none."""
    if not hits:
        return None
    first = hits[0]
    candidates = []
    for source in sources:
        if source.origin == "quoted_text":
            continue
        for amount in amounts_in(source.text, sender_email):
            if amount.value <= 0 or (amount.currency is None and not default_currency):
                continue
            if amount.currency is None and amount.value == amount.value.to_integral() and amount.value < 100:
                continue  # "2 invoices", "the 20th": a bare small number is no payment
            left, right = clause_bounds(source.text, amount.start, amount.end)
            line_start = source.text.rfind("\n", 0, amount.start) + 1
            in_total = bool(TOTAL.search(source.text[line_start : amount.start]))
            with_payment = any(hit.origin == source.origin and left <= hit.start < right for hit in hits)
            # Preference: the total, then the amount said with the payment, then the body over the subject.
            rank = (not in_total, not with_payment, source.origin != "new_text", -amount.value)
            candidates.append((rank, amount, source))
    if not candidates:
        return PaymentFound(None, first)
    _, amount, source = min(candidates, key=lambda candidate: candidate[0])
    hit_text = next(s.text for s in sources if s.origin == first.origin)
    places = [
        _line(source.text, amount.start),
        _line(hit_text, first.start),
        _clause(source.text, amount.start, amount.end),
        _clause(hit_text, first.start, first.end),
    ]
    payment = Payment(
        amount=str(amount.value.quantize(Decimal("0.01"))),
        currency=amount.currency or default_currency,
        paid_on=_paid_on(places, reference),
    )
    return PaymentFound(payment, first)
