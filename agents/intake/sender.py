"""The sender's name (display name, or the signature's person when it is a role) and company: from the
signature, "I run X"/"we are X"/"at X", or a name in the mail that matches the sender's domain."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.intake.dates import MONTHS
from agents.intake.schemas import Evidence, IntakeInput
from agents.intake.text import Hit, Source, alnum, fold

FREE_MAIL = frozenset(
    """gmail.com googlemail.com outlook.com hotmail.com hotmail.co.uk hotmail.fr hotmail.de live.com msn.com
    yahoo.com yahoo.co.uk yahoo.fr yahoo.de yahoo.es ymail.com icloud.com me.com mac.com aol.com gmx.de
    gmx.net gmx.com web.de t-online.de freenet.de proton.me protonmail.com pm.me zoho.com mail.com yandex.com
    yandex.ru mail.ru orange.fr free.fr laposte.net sfr.fr wanadoo.fr libero.it virgilio.it tiscali.it
    telia.com bredband.net live.se hotmail.se spray.se comhem.se seznam.cz wp.pl o2.pl interia.pl
    fastmail.com hey.com tutanota.com qq.com 163.com naver.com""".split()
)
ROLE_WORDS = frozenset(
    """accounts accounting account billing invoices invoice info information support admin administration
    office team sales finance hello contact payable payables receivable hr noreply no-reply reception
    bookings booking orders order customer service services enquiries inquiries mail webmaster help
    careers jobs press marketing desk the department""".split()
)
VALEDICTION = re.compile(
    r"^\s*(?:best(?:\s+(?:regards|wishes))?|kind(?:est)?\s+regards|warm(?:est)?\s+regards|regards|cheers|"
    r"thanks(?:\s+(?:a\s+lot|again|so\s+much|in\s+advance))?|thank\s+you(?:\s+(?:so\s+much|in\s+advance))?|"
    r"many\s+thanks|sincerely|yours(?:\s+(?:sincerely|truly|faithfully))?|all\s+the\s+best|take\s+care|"
    r"greetings|br|mvh|med\s+vänlig(?:a)?\s+hälsning(?:ar)?|vänliga\s+hälsningar|hälsningar|tack|"
    r"mit\s+freundlichen\s+grüßen|viele\s+grüße|liebe\s+grüße|beste\s+grüße|lg|vg|mfg|gruß|grüße|"
    r"cordialement|bien\s+à\s+vous|merci(?:\s+beaucoup)?|bises|amitiés|saludos|un\s+saludo|atentamente|"
    r"cordiali\s+saluti|saluti|grazie|met\s+vriendelijke\s+groet(?:en)?|groeten|hilsen|"
    r"med\s+venlig\s+hilsen|ystävällisin\s+terveisin|obrigad[oa]|abraços|ciao|love|xo|xx|"
    r"speak\s+soon|talk\s+soon|have\s+a\s+(?:great|nice|good)\s+(?:day|week|weekend))"
    r"\s*[,.!]*(?:\s*[,-]?\s*(?P<rest>[A-ZÀ-Þ][^\n]{0,60}))?\s*$",
    re.IGNORECASE,
)
COMPANY_SUFFIX = re.compile(
    r"(?:^|\s)(?:AB|HB|KB|Ltd\.?|Limited|LLC|L\.L\.C\.|Inc\.?|Corp\.?|Corporation|GmbH|AG|KG|OHG|UG|e\.K\.|"
    r"e\.V\.|S\.?A\.?S?\.?|SARL|S\.?L\.?U?\.?|S\.?r\.?l\.?|S\.?p\.?A\.?|B\.?V\.?|N\.?V\.?|Oy|Oyj|AS|ASA|A/S|"
    r"ApS|Pty|PLC|plc|LLP|LP|Co\.?|& Co\.?|& Partners?|Partners|Group|Studios?|Agency|Consulting|Design|"
    r"Labs?|Bakery|Café|Cafe|Restaurant|Ceramics|Architects|Arkitekter|Arquitectos|Associates|Foundation|"
    r"Society|Club|Shop|Store|Company|Collective|Atelier|Clinic|Gallery|Media|Productions?|Solutions|"
    r"Systems|Technologies|Tech|Software|Digital|Creative|Events|Hotel|Salon|Fitness|Yoga|Brewery|Winery|"
    r"Farm|Bistro|Bar|Boutique|Logistics|Fastigheter|Immobilien|Properties|Realty|Consultants|Services|"
    r"Works|Workshop|Industries|Holding|Holdings|Ventures|Capital|Trading|Imports|Publishing|Press|Films|"
    r"Records|Music|Sports|Dental|Legal|Law|Kanzlei|Partnerschaft)(?=$|[\s,.])"
)
TITLE_WORDS = re.compile(
    r"\b(?:manager|director|head\s+of|founder|co-?founder|owner|ceo|cto|cfo|coo|cmo|chief|president|vp|"
    r"lead|coordinator|assistant|officer|designer|developer|consultant|engineer|specialist|executive|"
    r"administrator|secretary|intern|student|freelancer|self-employed|accounts\s+payable|accounts\s+receivable|"
    r"accounting|bookkeeper|controller|marketing|finance|department|team|sales|partner|associate|"
    r"geschäftsführer\w*|inhaber\w*|vd|grundare|ägare|gérante?|fondateur|fondatrice|directeur|directrice)\b",
    re.IGNORECASE,
)
# Capitalised words (not the pronoun "I", "I'm") and "&": "Ember & Oak", "Petit Vélo", "Vogt & Partner".
# A full stop ends a name ("Nordic Bikes. We need…") except in abbreviations ("Co.", "S.A.").
_NAME_TOKEN = r"(?:(?:Co|Inc|Ltd|Corp|Bros|Cie)\.|(?!I\b|I['’])[A-ZÀ-ÖØ-Þ][\w'’-]*(?:\.[\w'’-]+)*|&)"
_NAME_LINK = r"(?:[ \t]+(?:&|and|of|the|de|la|le|du|des|von|van|der|den|y|et|och|und)(?=[ \t]+[A-ZÀ-Þ]))?"
COMPANY_NAME = rf"(?P<name>{_NAME_TOKEN}(?:{_NAME_LINK}[ \t]+{_NAME_TOKEN}){{0,5}})"
COMPANY_PHRASES = re.compile(
    r"(?i:\bI\s+(?:run|own|manage|founded|co-?founded|started|lead)|\b(?:we\s+are|we're|this\s+is)|"
    r"\b(?:I'm|I\s+am|this\s+is)\s+[A-ZÀ-Þ][\w'-]+\s+(?:from|at|of|with)|\bI\s+work\s+(?:at|for)|"
    r"\bon\s+behalf\s+of|\bhere\s+at|\b(?:called|named)|"
    r"\b(?:owner|founder|co-?founder|director|manager|ceo|head\s+of\s+\w+|marketing\s+lead)\s+(?:of|at)|"
    r"\b(?:our|my)\s+(?:company|business|studio|shop|firm|agency|brand|restaurant|bakery|café|cafe|"
    r"startup|practice|clinic|store|salon|label|gallery)(?:\s*,)?(?:\s+(?:called|named))?)"
    rf"\s+{COMPANY_NAME}"
)
_NOT_A_COMPANY = frozenset(
    """i we you he she they it my our your the a an hi hello dear hey thanks thank monday tuesday wednesday
    thursday friday saturday sunday mara""".split()
    + list(MONTHS)
)


def _domain_label(email_address: str) -> str:
    domain = email_address.rsplit("@", 1)[-1].lower()
    parts = domain.split(".")
    # "mail.kestrel-logistics.co.uk" → "kestrel-logistics"
    while len(parts) > 2 and (len(parts[-1]) <= 3 and len(parts[-2]) <= 3):
        parts = parts[:-1]
    label = parts[-2] if len(parts) >= 2 else parts[0]
    return alnum(label)


_SUFFIX_FOLDED = re.compile(
    r"(?:ab|hb|ltd|limited|llc|inc|corp|gmbh|ag|kg|sas|sarl|sa|sl|srl|spa|bv|nv|oy|as|aps|pty|plc|llp|co|"
    r"group|studio|studios|design|agency|consulting|labs?)$"
)


def _matches_domain(name: str, label: str) -> bool:
    folded = alnum(name.replace("&", " "))
    if not folded or not label or len(folded) < 3:
        return False
    stripped = _SUFFIX_FOLDED.sub("", folded)
    label_stripped = _SUFFIX_FOLDED.sub("", label)
    return (
        label in {folded, stripped}
        or label_stripped in {folded, stripped}
        or (len(label) >= 6 and (folded.startswith(label) or label.startswith(folded) and len(folded) >= 6))
    )


def _clean_name(name: str) -> str:
    tokens = re.sub(r"\s+", " ", name).strip().split(" ")
    # An abbreviation ends the name: "Clay & Co. We'd love…" is "Clay & Co".
    for index, token in enumerate(tokens):
        if token.endswith("."):
            tokens = tokens[: index + 1]
            break
    # A joining word that was followed by no name ("Berg and") is not part of it.
    while tokens and tokens[-1].lower() in {
        "&",
        "and",
        "of",
        "the",
        "de",
        "la",
        "von",
        "van",
        "y",
        "et",
        "och",
        "und",
    }:
        tokens.pop()
    return " ".join(tokens).strip(" ,.;:-–—'\"")


@dataclass
class CompanyCandidate:
    name: str
    hit: Hit
    score: float


def _is_person_line(line: str, sender_name: str) -> bool:
    folded = fold(line)
    if sender_name and (folded == fold(sender_name) or folded in fold(sender_name).split()):
        return True
    words = line.split()
    return (
        1 <= len(words) <= 3
        and all(re.fullmatch(r"[A-ZÀ-Þ][a-zà-ÿ'’-]+\.?", word) for word in words)
        and not (COMPANY_SUFFIX.search(" " + line))
    )


def _signature_block(text: str) -> list[tuple[int, str]]:
    """The lines of the closing block (after the valediction, else the last short paragraph), with offsets."""
    lines: list[tuple[int, str]] = []
    offset = 0
    for raw_line in text.split("\n"):
        lines.append((offset, raw_line))
        offset += len(raw_line) + 1
    start_index = None
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index][1]
        if line.strip() == "--" or VALEDICTION.match(line):
            start_index = index
            break
        if len(lines) - index > 12:
            break
    if start_index is not None:
        first_offset, first = lines[start_index]
        block: list[tuple[int, str]] = []
        match = VALEDICTION.match(first)
        if match and match.group("rest"):
            block.append((first_offset + match.start("rest"), match.group("rest")))
        block.extend(line for line in lines[start_index + 1 :] if line[1].strip())
        return block[:8]
    # No valediction: the last paragraph, when it is made of short lines without sentence punctuation.
    paragraph: list[tuple[int, str]] = []
    for entry in reversed(lines):
        if not entry[1].strip():
            if paragraph:
                break
            continue
        paragraph.insert(0, entry)
    if 1 <= len(paragraph) <= 5 and all(
        len(line.strip()) <= 60 and not re.search(r"[.!?]$", line.strip()) for _, line in paragraph
    ):
        return paragraph
    return []


def _signature_candidates(
    source: Source, sender_name: str, label: str, free_mail: bool
) -> list[CompanyCandidate]:
    candidates: list[CompanyCandidate] = []
    block = _signature_block(source.text)
    after_person = False
    for offset, line in block:
        stripped = line.strip()
        if not stripped:
            continue
        if _is_person_line(stripped, sender_name):
            after_person = True
            continue
        if re.search(r"@|https?://|www\.|\+?\d[\d\s().-]{6,}", stripped):
            continue
        for segment in re.split(r"\s*(?:,|\||·|•|\s[-–—]\s|\sat\s|\s@\s)\s*", stripped):
            if not segment:
                continue
            name = _clean_name(segment)
            position = line.find(name)
            if not name or len(name) > 60 or not re.match(r"[A-ZÀ-Þ0-9]", name):
                continue
            if TITLE_WORDS.search(name) and not COMPANY_SUFFIX.search(" " + name):
                continue
            if fold(name) in _NOT_A_COMPANY or (sender_name and fold(name) == fold(sender_name)):
                continue
            if re.search(r"\d", name) and not COMPANY_SUFFIX.search(" " + name):
                continue  # an address line
            score = 1.0
            if COMPANY_SUFFIX.search(" " + name):
                score += 2
            if not free_mail and _matches_domain(name, label):
                score += 3
            if after_person:
                score += 1
            if len(name.split()) >= 2:
                score += 0.5
            if score >= 2.5:
                start = offset + max(position, 0)
                candidates.append(
                    CompanyCandidate(name, Hit(source.origin, start, start + len(name), name), score)
                )
    return candidates


def find_company(sources: list[Source], *, sender_email: str, sender_name: str) -> CompanyCandidate | None:
    domain = sender_email.rsplit("@", 1)[-1].lower()
    free_mail = domain in FREE_MAIL
    label = "" if free_mail else _domain_label(sender_email)
    candidates: list[CompanyCandidate] = []
    for source in sources:
        if source.origin == "new_text":
            candidates.extend(_signature_candidates(source, sender_name, label, free_mail))
        for match in COMPANY_PHRASES.finditer(source.text):
            name = _clean_name(match.group("name"))
            if not name or fold(name.split()[0]) in _NOT_A_COMPANY or fold(name) == fold(sender_name):
                continue
            start = match.start("name")
            score = (
                3.0
                + (3 if label and _matches_domain(name, label) else 0)
                + (1 if COMPANY_SUFFIX.search(" " + name) else 0)
            )
            candidates.append(
                CompanyCandidate(name, Hit(source.origin, start, start + len(name), name), score)
            )
        if label:
            # A name in the mail that spells the sender's domain: "Vogt & Partner" from vogt-partner.de.
            for match in re.finditer(COMPANY_NAME, source.text):
                name = _clean_name(match.group("name"))
                if not name or fold(name) in _NOT_A_COMPANY or not _matches_domain(name, label):
                    continue
                if sender_name and alnum(name) in {alnum(part) for part in sender_name.split()}:
                    continue
                start = match.start("name")
                candidates.append(
                    CompanyCandidate(name, Hit(source.origin, start, start + len(name), name), 3.0)
                )
    if not candidates:
        return None
    # Highest score; between equals the longer name ("Berg Bakery AB" over "Berg Bakery").
    return max(candidates, key=lambda candidate: (candidate.score, len(candidate.name)))


def _signature_person(text: str, sender_email: str) -> Hit | None:
    for offset, line in _signature_block(text):
        stripped = line.strip()
        words = stripped.split()
        if 2 <= len(words) <= 4 and all(re.fullmatch(r"[A-ZÀ-Þ][a-zà-ÿ'’-]+\.?", word) for word in words):
            if COMPANY_SUFFIX.search(" " + stripped) or TITLE_WORDS.search(stripped):
                continue
            start = offset + line.find(stripped)
            return Hit("new_text", start, start + len(stripped), stripped)
    return None


def _is_role_name(name: str, sender_email: str) -> bool:
    words = re.findall(r"[\w-]+", fold(name))
    local = sender_email.split("@", 1)[0].lower()
    return bool(words) and (
        all(word in ROLE_WORDS for word in words) or alnum(name) == alnum(local) and local in ROLE_WORDS
    )


def find_sender_name(input: IntakeInput, text: str) -> tuple[str | None, Evidence]:  # noqa: A002
    name = re.sub(r"\s+", " ", input.from_name or "").strip().strip("'\"").strip()
    if "@" in name:
        name = ""
    if name and not _is_role_name(name, input.from_email):
        return name, Evidence(source=name, origin="headers", confidence=0.95)
    person = _signature_person(text, input.from_email)
    if person is not None:
        return person.text, person.evidence(0.75)
    if name:
        return name, Evidence(source=name, origin="headers", confidence=0.6)
    return None, Evidence(source="", origin="headers", confidence=0.5)
