"""The offline extraction: the rules over the new text, subject and headers, deterministically."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from agents.intake.catalogue import find_services
from agents.intake.dates import find_deadline
from agents.intake.intent import classify_intent
from agents.intake.money import find_budget
from agents.intake.payment import find_payment, payment_hits
from agents.intake.schemas import (
    NO_WORK_INTENTS,
    Evidence,
    IntakeFields,
    IntakeInput,
    ParsedParts,
    ServiceInfo,
)
from agents.intake.sender import find_company, find_sender_name
from agents.intake.text import Source
from core import clock
from core.invoice_numbers import invoice_numbers_find

_FORWARD_MARK = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded\s+message|weitergeleitete\s+nachricht|message\s+transféré|"
    r"vidarebefordrat\s+meddelande|mensaje\s+reenviado)|begin\s+forwarded\s+message)",
    re.IGNORECASE | re.MULTILINE,
)
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)


def sources_of(input: IntakeInput) -> list[Source]:  # noqa: A002
    """The texts the fields are read from: the new text and the subject. Forwarded content counts only
    when the sender forwarded it with (almost) nothing of their own: then it is what they ask about."""
    new_text = input.new_text or ""
    sources = [Source("new_text", new_text)]
    if len(_WORD.findall(new_text)) < 8 and _FORWARD_MARK.search(input.quoted_text or ""):
        sources.append(
            Source("quoted_text", input.quoted_text[_FORWARD_MARK.search(input.quoted_text).start() :])
        )
    subject = re.sub(
        r"^(?:\s*(?:re|fwd?|aw|sv|vs|wg|tr|rv)\s*:\s*)+", "", input.subject or "", flags=re.IGNORECASE
    )
    if subject:
        sources.append(Source("subject", input.subject))
    return sources


def _reference_date(value: str | None) -> dt.date:
    if value:
        try:
            return dt.datetime.fromisoformat(value).date()
        except ValueError:
            pass
    return timezone.localdate(clock.now())


def _default_currency(services: list[ServiceInfo]) -> str:
    currencies = [service.currency for service in services if service.currency]
    return max(set(currencies), key=currencies.count) if currencies else ""


def extract_rules(input: IntakeInput) -> IntakeFields:  # noqa: A002
    """The offline extraction: deterministic rules over the new text, subject and headers."""
    sources = sources_of(input)
    sender_email = input.from_email.strip().lower()
    evidence: dict[str, Evidence] = {
        "sender_email": Evidence(source=sender_email, origin="headers", confidence=1.0)
    }
    budget = find_budget(
        sources, sender_email=sender_email, default_currency=_default_currency(input.services)
    )
    services = find_services(sources, input.services)
    reference = _reference_date(input.date)
    references = [
        (source, ref)
        for source in sources
        for ref in invoice_numbers_find(source.text, prefix=input.invoice_prefix or "", year=reference.year)
    ]
    paid = payment_hits(sources)
    verdict = classify_intent(
        input,
        sources,
        has_budget=budget is not None and budget.stated,
        service_hits=list(services.hits.values()),
        payment_hits=paid,
        names_our_invoice=bool(input.invoice_prefix) and any(ref.ours for _, ref in references),
    )
    intent = verdict.intent
    evidence["intent"] = (
        verdict.hit.evidence(verdict.confidence)
        if verdict.hit
        else Evidence(
            source="automatic reply or bounce" if input.is_auto_reply or input.is_bounce else "",
            origin="headers" if input.is_auto_reply or input.is_bounce else "new_text",
            confidence=verdict.confidence,
        )
    )
    sender_name, name_evidence = find_sender_name(input, input.new_text)
    evidence["sender_name"] = name_evidence

    company = None
    if intent != "other":  # filed mail makes no client: a newsletter's or a phisher's name is not one
        found = find_company(sources, sender_email=sender_email, sender_name=sender_name or "")
        if found is not None:
            company = found.name
            evidence["company"] = found.hit.evidence(min(0.95, 0.4 + 0.08 * found.score))

    fields = IntakeFields(intent=intent, sender_email=sender_email, sender_name=sender_name, company=company)
    if verdict.risk is not None:
        evidence["risk"] = verdict.risk.evidence(0.9)
    if intent != "other":
        fields.invoice_numbers = sorted({ref.number for _, ref in references})
        if references:
            source, ref = references[0]
            evidence["invoice_numbers"] = Evidence(
                source=source.text[ref.start : ref.end], span=(ref.start, ref.end), origin=source.origin
            )
    if intent == "payment_notice":
        found_payment = find_payment(
            sources,
            hits=paid,
            sender_email=sender_email,
            default_currency=_default_currency(input.services),
            reference=reference,
        )
        if found_payment is not None and found_payment.payment is not None:
            fields.payment = found_payment.payment
            evidence["payment"] = found_payment.hit.evidence(0.8)
    if intent not in NO_WORK_INTENTS:
        if budget is not None:
            fields.budget = budget.budget
            evidence["budget"] = budget.hit.evidence(budget.confidence)
        deadline = find_deadline(sources, reference=reference)
        if deadline is not None:
            fields.deadline = deadline.deadline
            evidence["deadline"] = deadline.hit.evidence(deadline.confidence)
        fields.services = services.keys
        if services.hits:
            # The field's evidence is its first mention; each service also has its own.
            first = min(services.hits.values(), key=lambda hit: (hit.origin != "new_text", hit.start))
            evidence["services"] = first.evidence(0.75)
            for key, hit in services.hits.items():
                evidence[f"service:{key}"] = hit.evidence(0.8 if hit.weight >= 1 else 0.5)
    fields.evidence = evidence
    return fields


def intake_input_from_mail(
    *, mail: ParsedParts, services: list[ServiceInfo], invoice_prefix: str = ""
) -> IntakeInput:
    return IntakeInput(
        from_email=mail.from_email,
        from_name=mail.from_name,
        subject=mail.subject,
        date=mail.date.isoformat() if mail.date else None,
        new_text=mail.new_text or ("" if mail.quoted_text else mail.text),
        quoted_text=mail.quoted_text,
        is_auto_reply=mail.is_auto_reply,
        is_bounce=mail.is_bounce,
        headers=mail.headers,
        services=services,
        invoice_prefix=invoice_prefix,
    )


def intake_extract(
    *, mail: ParsedParts, services: list[ServiceInfo], invoice_prefix: str = ""
) -> IntakeFields:
    """The extraction contract's fields of a parsed mail, by the offline rules."""
    return extract_rules(intake_input_from_mail(mail=mail, services=services, invoice_prefix=invoice_prefix))
