"""Auto-replies (out of office) and bounces (delivery failures), by header, sender and subject."""

from __future__ import annotations

import re

from connectors.mime.headers import first_header

_AUTO_REPLY_SUBJECT = re.compile(
    r"\b(out\s+of\s+(the\s+)?office|automatic\s+reply|auto[-\s]?reply|autoreply|auto[-\s]?response|"
    r"abwesenheitsnotiz|automatische\s+antwort|abwesend|réponse\s+automatique|reponse\s+automatique|"
    r"absence\s+du\s+bureau|frånvaro|frånvarande|autosvar|automatiskt\s+svar|respuesta\s+automática|"
    r"fuera\s+de\s+la\s+oficina|risposta\s+automatica|fuori\s+(sede|ufficio)|afwezig|"
    r"automatisch\s+antwoord|poissa\s+toimistolta|on\s+vacation|away\s+from\s+(the\s+)?office)\b",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(delivery\s+status\s+notification|undelivered\s+mail|undeliverable|mail\s+delivery\s+(failed|"
    r"failure|subsystem)|delivery\s+(failure|has\s+failed)|returned\s+mail|failure\s+notice|"
    r"unzustellbar|nicht\s+zustellbar|non\s+remis|olevererbart|kunde\s+inte\s+levereras)",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)


def is_auto_reply(headers: dict[str, list[str]], subject: str) -> bool:
    auto_submitted = first_header(headers, "Auto-Submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return True
    if headers.get("x-autoreply") or headers.get("x-autorespond"):
        return True
    precedence = first_header(headers, "Precedence").strip().lower()
    if precedence == "auto_reply":
        return True
    # An out-of-office subject is enough on its own, whether or not Precedence says bulk or junk.
    return bool(_AUTO_REPLY_SUBJECT.search(subject))


def is_bounce(*, from_email: str, subject: str, delivery_status: bool) -> bool:
    return delivery_status or bool(_BOUNCE_SENDERS.match(from_email) or _BOUNCE_SUBJECT.search(subject))
