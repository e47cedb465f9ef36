"""The new text of a mail apart from its quoted history and forwarded blocks, in several languages."""

from __future__ import annotations

import re

_REPLY_VERBS = (
    r"wrote|writes|schrieb|a\s+écrit|a\s+ecrit|escribió|escribio|schreef|ha\s+scritto|escreveu|skrev|"
    r"kirjoitti|napisała|napisał|napisal|napsal|írta|пишет|написала|написал"
)
# "On Mon, 2 Nov 2026, Jonas <j@x> wrote:", "Am 2. Nov. 2026 um 09:14 schrieb Jonas <j@x>:",
# "Den 2 nov. 2026 kl. 09:14 skrev Jonas <j@x>:", "Le lun. 2 nov. 2026 à 09:14, Jonas <j@x> a écrit :".
_REPLY_HEADER = re.compile(
    rf"^\s*(?P<lead>\S.{{0,300}}?)\b(?:{_REPLY_VERBS})\b[^\n:]{{0,160}}:\s*$", re.IGNORECASE | re.DOTALL
)
_REPLY_LEADS = re.compile(
    r"^\s*(on|am|le|el|op|il|em|den|d\.|dne|w\s+dniu|päivänä|el\s+día|в)\b", re.IGNORECASE
)
_SEPARATOR_WORDS = (
    r"original\s+message|ursprüngliche\s+nachricht|originalnachricht|message\s+d'origine|"
    r"mensaje\s+original|ursprungligt\s+meddelande|oorspronkelijk\s+bericht|messaggio\s+originale|"
    r"mensagem\s+original|opprinnelig\s+melding|oprindelig\s+meddelelse|alkuperäinen\s+viesti|"
    r"forwarded\s+message|weitergeleitete\s+nachricht|message\s+transféré|mensaje\s+reenviado|"
    r"vidarebefordrat\s+meddelande|doorgestuurd\s+bericht|messaggio\s+inoltrato|"
    r"mensagem\s+encaminhada|videresendt\s+melding|videresendt\s+meddelelse|edelleenlähetetty\s+viesti"
)
_SEPARATOR = re.compile(rf"^\s*[-_=*]{{2,}}\s*(?:{_SEPARATOR_WORDS})\s*[-_=*]{{2,}}\s*$", re.IGNORECASE)
_FORWARD_INTRO = re.compile(
    r"^\s*(begin\s+forwarded\s+message|anfang\s+der\s+weitergeleiteten\s+nachricht|"
    r"début\s+du\s+message\s+réexpédié|début\s+du\s+message\s+transféré|vidarebefordrat\s+brev|"
    r"inizio\s+messaggio\s+inoltrato|comienza\s+el\s+mensaje\s+reenviado|"
    r"doorgestuurd\s+bericht|forwarded\s+message)\s*:\s*$",
    re.IGNORECASE,
)
# Outlook puts the original's headers in the body: "From: … / Sent: … / To: … / Subject: …".
_OUTLOOK_FROM = re.compile(
    r"^\s*\*?\s*(from|von|från|de|van|da|fra|lähettäjä|od|от)\s*\*?\s*:\s*\S", re.IGNORECASE
)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?\s*(sent|date|gesendet|datum|skickat|envoyé|verzonden|inviato|enviado|sendt|lähetetty|"
    r"wysłano|отправлено|to|an|till|à|aan|a|para|til|vastaanottaja|do|кому|subject|betreff|ämne|objet|"
    r"onderwerp|oggetto|asunto|assunto|emne|aihe|temat|тема|cc)\s*\*?\s*:",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")


def _reply_header_at(lines: list[str], index: int) -> int:
    """How many lines (1–3) form an "On … wrote:" header starting at `index`; 0 when none does."""
    first = lines[index]
    if not first.strip():
        return 0
    for count in (1, 2, 3):
        if index + count > len(lines) or not lines[index + count - 1].strip():
            break
        candidate = " ".join(line.strip() for line in lines[index : index + count])
        if len(candidate) > 400:
            break
        match = _REPLY_HEADER.match(candidate)
        if not match:
            continue
        # Only a header names when, or whom: a date, a time or an address, or the usual first word.
        # A header wrapped over lines starts with such a line, so a name above it is not taken along.
        starts_like_header = _REPLY_LEADS.match(first) or re.search(r"@|\d", first)
        if count == 1 and (_REPLY_LEADS.match(candidate) or re.search(r"@|\d", match.group("lead"))):
            return count
        if count > 1 and starts_like_header:
            return count
    return 0


def _outlook_block_at(lines: list[str], index: int) -> bool:
    if not _OUTLOOK_FROM.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 6] if line.strip()][:3]
    return sum(1 for line in following if _OUTLOOK_NEXT.match(line)) >= 2


def split_quoted(text: str) -> tuple[str, str]:
    """(new text, quoted text): history and forwarded blocks apart from what the sender wrote now.

    A separator (Outlook's original-message headers, a forwarded-message line) ends the new text: all
    below it is history. After an "On … wrote:" header the history is "> " quoted, and lines without
    "> " that follow are the sender's answers written between the quotes (bottom posting).
    """
    lines = text.splitlines()
    new: list[str] = []
    quoted: list[str] = []
    index = 0
    after_reply_header = False
    while index < len(lines):
        line = lines[index]
        if _SEPARATOR.match(line) or _FORWARD_INTRO.match(line) or _outlook_block_at(lines, index):
            quoted.extend(lines[index:])
            break
        if _UNDERSCORES.match(line) and index + 1 < len(lines):
            following = next((i for i in range(index + 1, len(lines)) if lines[i].strip()), None)
            if following is not None and _outlook_block_at(lines, following):
                quoted.extend(lines[index:])
                break
        header_lines = 0 if line.lstrip().startswith(">") else _reply_header_at(lines, index)
        if header_lines:
            rest = [candidate for candidate in lines[index + header_lines :] if candidate.strip()]
            quoted.extend(lines[index : index + header_lines])
            index += header_lines
            if rest and not rest[0].lstrip().startswith(">"):
                # History without "> " marks (some clients): everything below the header is history.
                quoted.extend(lines[index:])
                break
            after_reply_header = True
            continue
        in_quote = after_reply_header and bool(quoted) and quoted[-1].lstrip().startswith(">")
        if line.lstrip().startswith(">") or (not line.strip() and in_quote):
            quoted.append(line)
        else:
            new.append(line)
        index += 1
    return tidy("\n".join(new)), tidy("\n".join(quoted))


def tidy(text: str) -> str:
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()
