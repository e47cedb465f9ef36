"""The deadline: dates by a small grammar (explicit dates, end/mid/early of a month, quarters, "within N
weeks", weekdays…) resolved against the Date header to the next future occurrence; the latest delivery
date counts, starts, meetings and history do not."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from agents.intake.text import Hit, Source, clause_before, clause_bounds

_MONTH_NAMES = {
    1: "january jan januar jänner janvier janv enero januari gennaio janeiro",
    2: "february feb februar février fevrier févr fév febrero februari febbraio fevereiro",
    3: "march mar märz maerz mrz mars marzo maart março",
    4: "april apr avril avr abril aprile",
    5: "may mai mayo maj mei maggio maio",
    6: "june jun juni juin junio giugno junho",
    7: "july jul juli juillet juil julio luglio julho",
    8: "august aug août aout agosto augusti augustus",
    9: "september sep sept septembre septiembre setiembre settembre setembro",
    10: "october oct oktober octobre octubre ottobre outubro okt",
    11: "november nov novembre noviembre novembro",
    12: "december dec dezember décembre decembre dez déc diciembre dicembre dezembro",
}
MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names.split()}
_MONTH_RX = "|".join(sorted((re.escape(name) for name in MONTHS), key=len, reverse=True))
_M = rf"(?P<m>{_MONTH_RX})\.?(?![a-zà-ÿ])"
_Y = r"(?:,?\s*(?:de\s+|of\s+)?(?P<y>(?:19|20)\d{2}))?"
_END_WORDS = (
    r"(?:the\s+)?(?:very\s+)?end\s+of(?:\s+the\s+month\s+of)?|late|close\s+of|ende(?:\s+des)?|"
    r"fin(?:\s+de|\s+d')?|à\s+la\s+fin\s+de|a?\s*finales\s+de|fines\s+de|(?:i\s+)?slutet\s+av|"
    r"eind(?:\s+van)?|(?:alla\s+)?fine\s+(?:di\s+)?|fim\s+de"
)
_MID_WORDS = (
    r"mid|the\s+middle\s+of|middle\s+of|mitte|(?:à\s+la\s+)?mi|a?\s*mediados\s+de|(?:i\s+)?mitten\s+av|"
    r"metà|halverwege|meados\s+de"
)
_EARLY_WORDS = (
    r"(?:the\s+)?beginning\s+of|early|(?:the\s+)?start\s+of|the\s+first\s+week\s+of|first\s+week\s+of|"
    r"anfang|(?:au\s+)?début(?:\s+de|\s+d')?|a?\s*principios\s+de|inicios\s+de|comienzos\s+de|"
    r"(?:i\s+)?början\s+av|(?:all'\s*)?inizio(?:\s+di)?|begin|início\s+de"
)
DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?P<y>20\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")),
    ("numeric", re.compile(r"\b(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4}|\d{2})\b")),
    ("numeric_no_year", re.compile(r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?![\d.])")),
    ("end", re.compile(rf"\b(?:{_END_WORDS})\s*-?\s*{_M}{_Y}", re.IGNORECASE)),
    ("mid", re.compile(rf"\b(?:{_MID_WORDS})\s*-?\s*{_M}{_Y}", re.IGNORECASE)),
    ("early", re.compile(rf"\b(?:{_EARLY_WORDS})\s*-?\s*{_M}{_Y}", re.IGNORECASE)),
    (
        "dmy",
        re.compile(
            rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th|er|e|\.|º)?(?:\s+of|\s+de|\s+)?\s*{_M}{_Y}", re.IGNORECASE
        ),
    ),
    ("mdy", re.compile(rf"\b{_M}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?!:){_Y}", re.IGNORECASE)),
    (
        "quarter",
        re.compile(
            r"\b(?:(?:the\s+)?end\s+of\s+)?(?:the\s+)?Q(?P<q>[1-4])(?:\s*[/']?\s*(?P<y>(?:20)?\d{2}))?\b",
            re.IGNORECASE,
        ),
    ),
    (
        "quarter_words",
        re.compile(
            r"\b(?:the\s+)?(?:end\s+of\s+the\s+)?(?P<q>first|second|third|fourth|last|1st|2nd|3rd|4th)\s+quarter"
            r"(?:\s+of)?(?:\s+(?P<y>20\d{2}))?",
            re.IGNORECASE,
        ),
    ),
    (
        "month_end_relative",
        re.compile(r"\b(?:the\s+)?end\s+of\s+(?P<which>the|this|next)\s+month\b", re.IGNORECASE),
    ),
    (
        "year_end",
        re.compile(r"\b(?:the\s+)?end\s+of\s+(?:the|this)\s+year\b|\byear[-\s]end\b", re.IGNORECASE),
    ),
    ("week_end", re.compile(r"\b(?:the\s+)?end\s+of\s+(?P<which>the|this|next)\s+week\b", re.IGNORECASE)),
    (
        "within",
        re.compile(
            r"\b(?:within|in|in\s+the\s+next|during\s+the\s+next|inside\s+of|over\s+the\s+next|innerhalb\s+von|"
            r"inom|dans|en|binnen|entro)\s+(?:the\s+next\s+)?(?P<n>\d{1,3}|an?|one|two|three|four|five|six|seven|"
            r"eight|nine|ten|eleven|twelve|a\s+couple\s+of)\s+(?P<u>business\s+days?|working\s+days?|days?|weeks?|"
            r"months?|tagen?|wochen|woche|monaten?|dagar|veckor|vecka|månader|jours|semaines?|mois|días|dias|"
            r"semanas?|meses|dagen|weken|maanden|giorni|settimane|mesi)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "from_now",
        re.compile(
            r"\b(?P<n>\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+"
            r"(?P<u>days?|weeks?|months?)\s+from\s+(?:now|today)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "today",
        re.compile(
            r"\b(?P<word>today|tonight|end\s+of\s+(?:the\s+)?day|eod|tomorrow|heute|morgen|idag|i\s+dag|imorgon|"
            r"aujourd'hui|demain|hoy|mañana|oggi|domani|vandaag)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "weekday",
        re.compile(
            r"\b(?P<which>by|before|until|till|on|this|next|by\s+next|before\s+next)\s+"
            r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
            re.IGNORECASE,
        ),
    ),
]
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a couple of": 2,
}  # fmt: skip
_QUARTER_WORDS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "last": 4,
}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_TOMORROW = {"tomorrow", "morgen", "imorgon", "demain", "mañana", "domani"}

# Words right before a date that make it a start, a meeting or history rather than a delivery date.
NOT_DEADLINE_BEFORE = re.compile(
    r"\b(?:start\w*|begin(?:s|ning)?\s+(?:on|in|at|from)|kick[-\s]?off|commenc\w*|from|since|ago|founded|"
    r"established|opened|born|call|calls|meeting|meet|chat|zoom|appointment|coffee|visit|workshop|holiday|"
    r"holidays|vacation|away|off\s+from|out\s+of\s+(?:the\s+)?office|on\s+leave|urlaub|semester|vacances|"
    r"invoice\w*|paid|payment|pay|due\s+(?:date\s+)?(?:of|for)\s+(?:the\s+)?invoice|last\s+year|back\s+on|"
    r"return\w*|talk|speak)\b[^.!?\n]{0,30}$",
    re.IGNORECASE,
)
DEADLINE_CUE = re.compile(
    r"\b(?:by|before|until|till|no\s+later\s+than|deadline|due|ready|live|launch\w*|deliver\w*|done|"
    r"finished|complete\w*|need(?:ed)?|must|latest|in\s+time|open\w*|reveal|release|publish\w*|go[-\s]live|"
    r"bis|spätestens|senast|avant|antes)\b",
    re.IGNORECASE,
)


def _last_day(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _next_occurrence(build: Callable[[int], dt.date], reference: dt.date, year: str | None) -> dt.date | None:
    """The date `build(year)` gives: as written with a year, else the next one on or after `reference`."""
    try:
        if year:
            number = int(year)
            return build(number + 2000 if number < 100 else number)
        candidate = build(reference.year)
        return candidate if candidate >= reference else build(reference.year + 1)
    except ValueError:
        return None


def _add_business_days(day: dt.date, count: int) -> dt.date:
    while count > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def _resolve(kind: str, match: re.Match[str], reference: dt.date) -> dt.date | None:
    group = match.groupdict()
    month = (
        MONTHS.get(group.get("m", "").lower().rstrip("."))
        if group.get("m") and not group["m"].isdigit()
        else None
    )
    if kind in {"iso", "numeric", "numeric_no_year"}:
        day_number, month_number = int(group["d"]), int(group["m"])
        if month_number > 12 and day_number <= 12:  # written month first (US style)
            day_number, month_number = month_number, day_number
        return _next_occurrence(
            lambda year: dt.date(year, month_number, day_number), reference, group.get("y")
        )
    if kind in {"dmy", "mdy"} and month:
        day_number = int(group["d"])
        return _next_occurrence(lambda year: dt.date(year, month, day_number), reference, group.get("y"))
    if kind == "end" and month:
        return _next_occurrence(lambda year: _last_day(year, month), reference, group.get("y"))
    if kind == "mid" and month:
        return _next_occurrence(lambda year: dt.date(year, month, 15), reference, group.get("y"))
    if kind == "early" and month:
        return _next_occurrence(lambda year: dt.date(year, month, 1), reference, group.get("y"))
    if kind in {"quarter", "quarter_words"}:
        quarter = int(group["q"]) if group["q"].isdigit() else _QUARTER_WORDS[group["q"].lower()]
        return _next_occurrence(lambda year: _last_day(year, quarter * 3), reference, group.get("y"))
    if kind == "month_end_relative":
        month_start = _add_months(reference.replace(day=1), 1 if group["which"].lower() == "next" else 0)
        return _last_day(month_start.year, month_start.month)
    if kind == "year_end":
        return dt.date(reference.year, 12, 31)
    if kind == "week_end":
        friday = reference + dt.timedelta(days=(4 - reference.weekday()) % 7)
        return friday + dt.timedelta(days=7) if group["which"].lower() == "next" else friday
    if kind in {"within", "from_now"}:
        number_text = group["n"].lower()
        count = (
            int(number_text)
            if number_text.isdigit()
            else _NUMBER_WORDS.get(re.sub(r"\s+", " ", number_text), 0)
        )
        unit = group["u"].lower()
        if unit.startswith(("business", "working")):
            return _add_business_days(reference, count)
        if re.match(r"(?:weeks?|wochen|woche|veckor|vecka|semaines?|semanas?|weken|settimane)$", unit):
            return reference + dt.timedelta(weeks=count)
        if re.match(r"(?:months?|monaten?|månader|mois|meses|maanden|mesi)$", unit):
            return _add_months(reference, count)
        return reference + dt.timedelta(days=count)
    if kind == "today":
        word = group["word"].lower()
        return reference + dt.timedelta(days=1) if word in _TOMORROW else reference
    if kind == "weekday":
        weekday = _WEEKDAYS.index(group["wd"].lower())
        ahead = (weekday - reference.weekday()) % 7
        if "next" in group["which"].lower() and ahead == 0:
            ahead = 7
        return reference + dt.timedelta(days=ahead)
    return None


@dataclass
class DeadlineFound:
    deadline: dt.date
    hit: Hit
    confidence: float


# Kinds that name a date only when a delivery word stands near them ("by Friday", "ready tomorrow").
_CUE_REQUIRED = frozenset({"today", "weekday", "numeric_no_year"})


def find_deadline(sources: list[Source], *, reference: dt.date) -> DeadlineFound | None:
    """The date the work must be ready: the latest delivery date the mail names."""
    found: list[tuple[dt.date, Hit, float]] = []
    for source in sources:
        taken: list[tuple[int, int]] = []
        for kind, pattern in DATE_PATTERNS:
            for match in pattern.finditer(source.text):
                start, end = match.start(), match.end()
                if any(start < other_end and other_start < end for other_start, other_end in taken):
                    continue
                day = _resolve(kind, match, reference)
                if day is None:
                    continue
                taken.append((start, end))
                if day < reference:
                    continue  # history ("since 2 March 2015") is not a delivery date
                before = clause_before(source.text, start, 50)
                if NOT_DEADLINE_BEFORE.search(before):
                    continue
                left, right = clause_bounds(source.text, start, end)
                clause = source.text[left:right]
                cue = bool(DEADLINE_CUE.search(clause))
                if kind in _CUE_REQUIRED and not DEADLINE_CUE.search(before):
                    continue
                confidence = (0.85 if cue else 0.6) - (0.1 if kind in {"within", "weekday", "quarter"} else 0)
                found.append((day, Hit(source.origin, start, end, match.group(0).strip()), confidence))
    if not found:
        return None
    day, hit, confidence = max(found, key=lambda item: (item[0], item[2]))
    return DeadlineFound(day, hit, round(confidence, 2))
