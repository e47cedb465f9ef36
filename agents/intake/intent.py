"""The intent of a mail by weighted signals: distinct phrases per intent, plus what the other fields
found (a stated budget and a requested service make an inquiry). Mail that talks to an AI or asks to
change payment details is `other` before any model sees it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.intake.schemas import INTENTS, IntakeInput
from agents.intake.text import Hit, Source, clause_bounds, find_hits


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{alternative})" for alternative in alternatives), re.IGNORECASE)


# Text addressed to an AI, or trying to change who gets paid: never work, whatever else it says.
INJECTION = _rx(
    r"\bignore\s+(?:all\s+|any\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier|preceding)\s+"
    r"(?:instructions?|prompts?|messages?|rules|directions)",
    r"\bdisregard\s+(?:all\s+|any\s+)?(?:the\s+|your\s+)?(?:previous|prior|above|earlier)?\s*(?:instructions?|rules|prompts?)",
    r"\bforget\s+(?:all\s+|your\s+)?(?:previous\s+)?instructions",
    r"\b(?:system|admin|developer)\s+(?:note|prompt|message|override|instruction)s?\b",
    r"\b(?:to|for|dear)\s+(?:the\s+)?(?:ai|a\.i\.|assistant|ai\s+assistant|bot|chatbot|agent|language\s+model|llm)\b",
    r"\bas\s+an\s+ai\b",
    r"\byou\s+are\s+now\s+(?:a|an|in)\b",
    r"\bnew\s+instructions\s*:",
    r"\bmark\s+(?:every|all|each|the)\s+(?:\w+\s+){0,3}invoices?\s+(?:\w+\s+){0,4}as\s+paid",
    r"\bsend\s+(?:me\s+|us\s+)?(?:a\s+copy\s+of\s+)?(?:all|every)\s+(?:\w+\s+)?(?:contracts?|records|files|data|passwords?|invoices)",
    r"\bdo\s+not\s+(?:tell|inform|notify|alert|ask|copy|cc)\s+(?:the\s+)?(?:owner|operator|anyone|her|him|mara)",
    r"(?m:^\s*(?:hey\s+|hi\s+|dear\s+)?(?:ai|assistant|bot|chatgpt|gpt|claude|copilot|agent)\s*[,:])",
    r"\b(?:approve|pay|settle)\s+(?:the\s+|this\s+|all\s+)?(?:attached\s+)?invoices?\s+(?:immediately|now|today|"
    r"without)",
)
PHISHING = _rx(
    r"\b(?:payment|bank|banking|account|wire|remittance)\s+(?:details|information|info|instructions|data)\s+"
    r"(?:have\s+|has\s+)?(?:been\s+)?(?:changed|updated|change|update)",
    r"\b(?:new|updated|changed|different)\s+(?:our\s+|the\s+)?(?:bank|banking|payment)\s+"
    r"(?:details|account|information|info)",
    r"\b(?:updated|changed)\s+(?:our\s+|the\s+|their\s+)?(?:bank|banking|payment)\s+(?:details|account|information)",
    r"\bfuture\s+payments\s+(?:to|should\s+go\s+to)\b",
    r"\bchange\s+(?:of|in|to)\s+(?:our\s+)?(?:bank|payment|banking)\s+details",
    r"\bgift\s*cards?\b",
    r"\bverify\s+your\s+(?:account|password|identity|mailbox|login)",
    r"\b(?:your\s+)?password\s+(?:expires|has\s+expired|will\s+expire)",
    r"\byour\s+(?:mailbox|account|email)\s+(?:will\s+be|has\s+been)\s+(?:suspended|closed|deactivated|locked)",
    r"\burgent(?:ly)?\s+(?:wire|transfer|payment)\b",
    r"\bwire\s+(?:the\s+)?(?:funds|money|payment)\s+(?:today|immediately|now)",
)
BULK = _rx(r"\bnewsletter\b", r"\bthis\s+week'?s\b|\bthis\s+week\s*:", r"\bsubscribers?\b")
BULK_STRONG = _rx(
    r"\bunsubscribe\b",
    r"\bview\s+(?:this\s+(?:email|newsletter)\s+|it\s+)?in\s+(?:your|a)\s+browser\b",
    r"\bmanage\s+(?:your\s+)?(?:email\s+|subscription\s+)?preferences\b",
    r"\byou\s+(?:are\s+)?receiv(?:e|ing)\s+this\s+(?:email|message)\s+because\b",
    r"\b(?:abmelden|désinscri\w*|avregistrera|darse\s+de\s+baja)\b",
)
PITCH = _rx(
    r"\b(?:our|my)\s+(?:agency|team|company|firm)\s+(?:offers?|provides?|specializ|specialis|helps?)",
    r"\bwe\s+(?:offer|provide|specialize|specialise)\s+(?:in\s+)?(?:\w+\s+){0,3}(?:services|solutions|development|outsourcing|marketing)",
    r"\bwe\s+help\s+(?:\w+\s+){0,2}(?:businesses|companies|agencies|studios|freelancers|designers|brands)",
    r"\b(?:boost|increase|grow|double|improve)\s+your\s+(?:traffic|sales|revenue|rankings?|leads|conversions|visibility)",
    r"\b(?:your|ur)\s+(?:website|site)\s+(?:is\s+not|isn'?t|could\s+be|needs|has\s+(?:some|a\s+few|several))\b",
    r"\b(?:first\s+page\s+(?:of|on)\s+google|backlinks?|guest\s+posts?|lead\s+generation|white[-\s]label|"
    r"dedicated\s+developers|offshore|outsourc\w+)\b",
    r"\b(?:would|are)\s+you\s+(?:be\s+)?(?:interested|open)\s+(?:in|to)\s+(?:a\s+)?(?:partnership|collaboration|"
    r"our\s+services|our\s+offer|a\s+quick\s+demo|a\s+free)",
    r"\b(?:book|schedule)\s+a\s+(?:free\s+)?(?:demo|consultation)\s+with\s+(?:me|us)\b",
    r"\bfree\s+(?:seo\s+|website\s+)?(?:audit|trial|consultation)\s+(?:for\s+you|of\s+your)\b",
    r"\b(?:special|exclusive|limited[-\s]time)\s+offer\b",
    r"\breaching\s+out\s+(?:from|on\s+behalf\s+of)\b",
    r"\b(?:our|my)\s+(?:rates|pricing)\s+(?:start|are|from)\b|\brates\s+from\b",
)
JOB = _rx(
    r"\b(?:apply|applying|application)\s+(?:for|to)\b",
    r"\b(?:my|attached|enclosed)\s+(?:is\s+my\s+)?(?:cv|resume|résumé|curriculum\s+vitae|cover\s+letter)\b",
    r"\binternships?\b",
    r"\b(?:job|position|role|vacancy|vacancies|opening|openings)\s+(?:at|in|with)\s+(?:your|the)\s+(?:studio|team|company|agency)",
    r"\bjoin\s+your\s+(?:team|studio|agency|company)\b",
    r"\blooking\s+for\s+(?:a\s+|an\s+)?(?:job|position|internship|placement|work\s+placement|new\s+role)\b",
    r"\b(?:any|open)\s+(?:positions|openings|vacancies)\b",
    r"\bhire\s+me\b",
    r"\bmy\s+portfolio\b",
)
BILLING = _rx(
    r"\binvoices?\b",
    r"\b(?:rechnung|faktura|fakturan|facture|factura|fattura)\w*\b",
    r"\b(?:paid|payment|payments|pay|repay|remittance|remit|remitted|refund|refunded|reimburse\w*)\b",
    r"\b(?:bank|wire)\s+transfer\b|\btransferred\b",
    r"\b(?:receipt|credit\s+note|overdue|outstanding|balance\s+due|amount\s+due|due\s+date|past\s+due|reminder)\b",
    r"\b(?:vat|tax\s+id|tax\s+number|iban|swift|bic)\b",
    r"\b(?:po|p\.o\.)\s*(?:number|no\.?|#)|\bpurchase\s+order\b|\bPO[-\s]?\d",
    r"\b(?:billing|billed|bill)\b",
    r"\bproforma|pro\s+forma\b",
)
# Words that hardly occur outside billing mail.
BILLING_STRONG = _rx(
    r"\b(?:send|resend|issue|need|want|get|receive|received)\s+(?:me\s+|us\s+)?(?:the|an|your|a\s+copy\s+of\s+the)\s+"
    r"(?:\w+\s+)?invoice\b",
    r"\b(?:po|p\.o\.)\s*(?:number|no\.?|#)|\bpurchase\s+order\b|\bPO[-\s]?\d",
    r"\bremittance\b|\bcredit\s+note\b|\boverdue\b|\brefund\w*\b",
    r"\b(?:paid|re-?issue|resend|re-?send)\b",
    r"\b(?:vat|tax)\s+(?:number|id|no\.?)\b",
)
INVOICE_NUMBER = re.compile(
    r"\b(?:invoice|inv|rechnung|faktura|facture|factura)\.?\s*(?:no\.?|nr\.?|number|#)?\s*[:#]?\s*[A-Z]{0,5}-?\d[\w/-]*",
    re.IGNORECASE,
)
SCHEDULING = _rx(
    r"\b(?:call|calls|meeting|meetings|meet|catch[-\s]?up|chat|zoom|teams\s+call|google\s+meet|video\s+call|"
    r"phone\s+call|coffee|appointment|workshop\s+session)\b",
    r"\b(?:reschedule|postpone|move|push)\s+(?:our|the|my|this)\s+(?:call|meeting|appointment|chat|session)\b",
    r"\b(?:availability|time\s+slots?|calendar\s+invite|invite)\b",
    r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s?(?:am|pm)\b",
    r"\b(?:next\s+|this\s+)?(?:monday|tuesday|wednesday|thursday|friday)\s*(?:morning|afternoon|evening)?\b",
)
SCHEDULING_ASK = _rx(
    r"\b(?:can|could|shall|should|would)\s+we\s+(?:have|schedule|set\s+up|book|arrange|do|hop\s+on|jump\s+on|"
    r"find\s+a\s+time|move|reschedule|meet|talk|chat|speak)\b",
    r"\b(?:are|would)\s+you\s+(?:be\s+)?(?:free|available)\b",
    r"\b(?:reschedule|postpone)\b",
    r"\b(?:what|which)\s+time\s+(?:works|suits|would)",
    r"\b(?:works|suits)\s+(?:for\s+)?(?:me|us|you)\b",
    r"\b(?:let'?s|like\s+to)\s+(?:meet|talk|have\s+a\s+call|set\s+up\s+a\s+call|schedule)\b",
    r"\b(?:does|would|will|could|can)\s+(?:[\w:.']+\s+){0,4}(?:work|suit)\s+(?:for\s+)?(?:you|me|us)\b",
    r"\b(?:could|can|would)\s+you\s+do\s+(?:monday|tuesday|wednesday|thursday|friday|tomorrow|next|\d)",
    r"\bsend\s+(?:me\s+|us\s+)?(?:a\s+)?(?:calendar\s+|meeting\s+)?invite\b",
    r"\bbook\s+a\s+(?:time|slot|call|meeting)\b",
)
CHANGE = _rx(
    r"\b(?:add|adding|remove|removing|change|changes|changing|swap|replace|tweak|tweaks|adjust|revise|"
    r"revision|revisions|amend|feedback|comments|extend|extension|prolong|renew)\b",
    r"\b(?:instead|another\s+round|one\s+more|two\s+more|three\s+more|a\s+few\s+more|more\s+pages|additional|extra)\b",
    r"\b(?:the|your)\s+(?:designs?|drafts?|mock-?ups?|prototype|wireframes?|staging|proofs?|first\s+version|"
    r"latest\s+version|current\s+version|concepts?)\b",
    r"\bscope\b",
    r"\b(?:push|move)\s+(?:back\s+|out\s+)?(?:the\s+)?(?:deadline|launch|go-live|delivery)\b",
)
UNDER_WAY = _rx(
    r"\b(?:we|you)\s*(?:are|'re)\s+(?:building|designing|working\s+on|making|doing|creating)\b",
    r"\b(?:the|our)\s+(?:\w+\s+){0,2}(?:you|we)\s+(?:are\s+|'re\s+)?(?:building|designing|working\s+on|made|sent|did|delivered)\b",
    r"\bwhat\s+(?:that|this|it|they)\s+(?:adds|would\s+add|will\s+add|does)\s+to\s+the\s+(?:price|cost|budget|quote|invoice)",
    r"\bstill\s+(?:go\s+live|launch|deliver|make\s+it|hit|meet|be\s+ready)\b",
    r"\b(?:looked\s+at|reviewed|saw|seen|checked)\s+(?:the|your)\s+(?:designs?|drafts?|mock-?ups?|proofs?|concepts?|pages?)",
    r"\b(?:the\s+)?current\s+(?:project|scope|proposal|agreement|contract)\b",
    r"\bchange\s+request\b",
    r"\b(?:can|could|would)\s+you\s+(?:please\s+)?(?:make|change|move|swap|replace|update|fix|adjust|remove|"
    r"add|enlarge|shorten|tweak)\s+(?:the|our|my|its)\b",
)
INQUIRY = _rx(
    r"\b(?:we|i)\s*(?:'d|would)\s+(?:like|love)\s+(?:to\s+(?:have|get|commission|order|build|create|start|"
    r"work|hire)|a|an|some|help|you\s+to)\b",
    r"\b(?:we|i)\s*(?:'d|would)\s+need\b",
    r"\b(?:we|i)\s*(?:'re|\s+are|'m|\s+am)\s+(?:thinking\s+(?:of|about)|considering|planning)\b",
    r"\b(?:needs?|wants?|requires?)\s+(?:a|an|some)\b",
    r"\b(?:we|i)\s+(?:need|want|are\s+looking\s+for|am\s+looking\s+for|are\s+searching\s+for|require|"
    r"are\s+planning|am\s+planning)\b",
    r"\blooking\s+for\s+(?:a|an|someone|somebody|help|a\s+designer|a\s+studio|an\s+agency)\b",
    r"\b(?:quote|quotation|proposal|estimate|offer|pricing|how\s+much|what\s+would\s+it\s+cost|cost\s+estimate)\b",
    r"\b(?:could|can|would)\s+you\s+(?:help|design|build|create|make|do|take\s+on|quote|send|redo|redesign|"
    r"deliver|develop|write|draw|set\s+up|put\s+together)\b",
    r"\b(?:wir\s+(?:brauchen|suchen|möchten|hätten\s+gerne|benötigen)|ich\s+(?:brauche|suche|möchte|benötige)|"
    r"nous\s+(?:avons\s+besoin|cherchons|voudrions|souhaitons)|je\s+(?:cherche|voudrais|souhaite)|"
    r"necesitamos|buscamos|quisiéramos|queremos|necesito|vi\s+(?:behöver|söker|vill\s+ha|skulle\s+vilja)|"
    r"jag\s+(?:behöver|söker|vill\s+ha)|vorremmo|abbiamo\s+bisogno|cerchiamo|wij\s+zoeken|we\s+zoeken)\b",
    r"\b(?:angebot|kostenvoranschlag|devis|presupuesto|cotización|offert|preventivo|offerte)\b",
    r"\binterested\s+in\s+(?:working|your\s+services|hiring|a\s+collaboration)\b",
    r"\b(?:new\s+project|a\s+project|recommended\s+you|referred\s+(?:me|us)|found\s+your\s+(?:portfolio|website|work))\b",
    r"\b(?:hire|commission)\s+(?:you|a|your)\b",
    r"\b(?:available|availability)\s+for\s+(?:a\s+)?(?:new\s+)?(?:project|job|work)\b",
    r"\b(?:budget|spend|set\s+aside|afford)\b",
    r"\b(?:proper|new|first)\s+(?:website|site|logo|shop|store|brand|identity|webshop)\b",
)
# The client says yes to a proposal (also with a small change: "Approved! One thing: …").
ACCEPTANCE = _rx(
    r"\b(?:let'?s|let\s+us|please|you\s+can|feel\s+free\s+to|happy\s+to|glad\s+to|ready\s+to|we'?d\s+like\s+to|"
    r"we\s+would\s+like\s+to|we\s+want\s+to|we\s+can|we'?ll|we\s+will)\s+(?:\w+\s+){0,2}(?:go\s+ahead|proceed|"
    r"move\s+forward|get\s+started|kick\s+(?:it\s+)?off|start)\b(?!\s+(?:looking|searching|thinking|over))",
    r"\bgo\s+ahead\s+(?:with|as\s+proposed|and\s+start)\b|\bgo\s+ahead\s*[!.]",
    r"\b(?:we|i)\s+(?:hereby\s+|happily\s+|gladly\s+)?(?:accept|approve|confirm)\s+(?:the|your|this)\s+"
    r"(?:\w+\s+){0,2}(?:proposal|quote|quotation|offer|estimate|terms)\b",
    r"\b(?:proposal|quote|quotation|offer|estimate)\s+(?:is\s+|has\s+been\s+)?(?:accepted|approved|signed)\b",
    r"(?:^|\n)\s*(?:approved|accepted|agreed|deal|sounds\s+good|perfect|great)\s*[!.]",
    r"\blet'?s\s+do\s+(?:it|this)\b|\bcount\s+(?:us|me)\s+in\b|\bgreen\s+light\b|\byou'?ve\s+got\s+the\s+job\b",
    r"\b(?:signed|countersigned)\s+(?:copy\s+of\s+(?:the\s+)?)?(?:proposal|contract|offer|quote|agreement)\b|"
    r"\battached\s+(?:is\s+)?the\s+signed\b",
    r"\bwir\s+(?:nehmen|akzeptieren)\s+(?:das|ihr|dein)\s+angebot\b|\bangebot\s+(?:ist\s+)?(?:angenommen|"
    r"freigegeben)\b|\b(?:legen\s+sie|leg)\s+los\b|\bauftrag\s+(?:ist\s+)?erteilt\b|\bmachen\s+wir\b",
    r"\b(?:nous\s+acceptons|j'accepte)\b|\bdevis\s+(?:est\s+)?(?:accepté|validé|signé)\b|\bbon\s+pour\s+accord\b|"
    r"\bc'est\s+(?:validé|parti|ok\s+pour\s+nous)\b|\bon\s+y\s+va\b",
    r"\bvi\s+(?:godkänner|accepterar|tackar\s+ja)\b|\bkör\s+på\b|\boffert(?:en)?\s+(?:är\s+)?godkänd\b",
    r"\b(?:aceptamos|aprobamos)\s+(?:el|la|tu|su)\s+(?:presupuesto|propuesta|oferta)\b|\badelante\s+con\b",
    r"\b(?:accettiamo|approviamo)\s+(?:il|la|vostro|vostra)\b|\bprocediamo\b",
    r"\bwe\s+gaan\s+(?:ervoor|akkoord)\b|\b(?:offerte|voorstel)\s+(?:is\s+)?(?:akkoord|goedgekeurd)\b",
)
# The client says no to a proposal.
DECLINE = _rx(
    r"\b(?:won'?t|will\s+not|not|no\s+longer|aren'?t|are\s+not|won'?t\s+be|not\s+be)\s+(?:be\s+)?(?:going\s+ahead|"
    r"go(?:ing)?\s+ahead|proceed(?:ing)?|mov(?:e|ing)\s+forward|pursu(?:e|ing)\s+(?:this|it|the\s+project))\b",
    r"\bdecided\s+(?:to\s+go|to\s+work|to\s+partner|to\s+continue)\s+with\s+(?:another|a\s+different|an?\s+"
    r"(?:other\s+)?(?:agency|studio|freelancer|designer|developer|team|provider|vendor)|someone\s+else|our\s+"
    r"in-?house)\b",
    r"\b(?:decided|chosen|choose|chose|opted|decide)\s+(?:against|not\s+to|to\s+(?:decline|pass))\b|"
    r"\b(?:gone|went|going)\s+with\s+(?:another|a\s+different|someone\s+else)\b",
    r"\b(?:we|i)(?:'ll|'d|\s+(?:must|have\s+to|need\s+to|will|would))?\s+(?:respectfully\s+|regretfully\s+|"
    r"politely\s+|have\s+to\s+)?(?:decline|pass\s+on)\s+(?:the|your|this)\b",
    r"\b(?:proposal|quote|offer)\s+(?:is\s+)?(?:declined|rejected)\b|\bput\s+(?:the\s+project|this|it)\s+on\s+hold\b",
    r"\bwir\s+(?:müssen\s+)?(?:ihnen\s+|dir\s+)?(?:leider\s+)?absagen\b|\bangebot\s+(?:leider\s+)?(?:nicht\s+"
    r"annehmen|ablehnen)\b|\bnous\s+ne\s+donnerons\s+pas\s+suite\b|\bvi\s+tackar\s+nej\b|"
    r"\bno\s+seguiremos\s+adelante\b|\bnon\s+procederemo\b",
)
# A reply in the thread of a proposal or quote: a yes or a no there is about that proposal.
PROPOSAL_SUBJECT = re.compile(
    r"\b(?:proposal|quote|quotation|offer|estimate|angebot|kostenvoranschlag|devis|offert|offerte|presupuesto|"
    r"preventivo|propuesta|proposition)\b",
    re.IGNORECASE,
)
# The prefixes mail programs put before a subject they answer or pass on, in the languages of the intake.
_REPLY_PREFIXES = r"re|aw|sv|vs|antw|ref|rif|r"
_FORWARD_PREFIXES = r"fwd?|wg|tr|rv|vb|doorst"
REPLY_SUBJECT = re.compile(rf"^\s*(?:{_REPLY_PREFIXES})\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
# A reply's or a forward's subject names the earlier mail's topic, not what the sender asks now.
THREAD_SUBJECT = re.compile(
    rf"^\s*(?:{_REPLY_PREFIXES}|{_FORWARD_PREFIXES})\s*(?:\[\d+\])?\s*:", re.IGNORECASE
)
BULK_SENDERS = re.compile(
    r"^(?:newsletters?|news|no-?reply|do-?not-?reply|donotreply|marketing|mailer|notifications?|digest|"
    r"updates|info-?mail|campaigns?|hello-?news)@",
    re.IGNORECASE,
)


@dataclass
class IntentVerdict:
    intent: str
    confidence: float
    hit: Hit | None
    risk: Hit | None = None  # an injection or a bank-detail change in a mail that is still read


def _score(hits: list[Hit], cap: int = 4) -> float:
    """Weighted count of distinct matched phrases, each phrase counted once, capped."""
    seen: dict[str, float] = {}
    for hit in hits:
        key = hit.text.lower()
        seen[key] = max(seen.get(key, 0.0), hit.weight)
    return min(float(cap), sum(seen.values()))


CONDITIONAL_BEFORE = re.compile(
    r"\b(?:if|whether|before|once|when|unless|not|n't|might|may|could|would|should)\s+(?:\w+\s+){0,3}$",
    re.IGNORECASE,
)


def _conditional(sources: list[Source], hit: Hit) -> bool:
    """ "If we go ahead…", "before we proceed": a yes that is not given yet."""
    text = next(source.text for source in sources if source.origin == hit.origin)
    left, _ = clause_bounds(text, hit.start, hit.end)
    return bool(CONDITIONAL_BEFORE.search(text[max(left, hit.start - 40) : hit.start]))


def _same_clause(sources: list[Source], first: Hit, second: Hit) -> bool:
    if first.origin != second.origin:
        return False
    text = next(source.text for source in sources if source.origin == first.origin)
    return clause_bounds(text, first.start, first.end) == clause_bounds(text, second.start, second.end)


def risk_hits(sources: list[Source]) -> list[Hit]:
    """Text addressed to an AI, or trying to change who gets paid."""
    return find_hits(INJECTION, sources) + find_hits(PHISHING, sources)


def hard_other(
    input: IntakeInput,  # noqa: A002
    sources: list[Source],
    *,
    names_our_invoice: bool = False,
) -> IntentVerdict | None:
    """Mail that is never work, whatever a model might make of it. Such a mail that names one of our
    invoices is about our billing (a forged "new bank details" for a real invoice): it is `billing`
    with the risk as its evidence, so the operator sees it and nothing answers it on its own."""
    if input.is_bounce:
        return IntentVerdict("other", 0.99, None)
    if input.is_auto_reply:
        return IntentVerdict("other", 0.98, None)
    hits = risk_hits(sources)
    if hits and names_our_invoice:
        return IntentVerdict("billing", 0.6, hits[0], risk=hits[0])
    if hits:
        return IntentVerdict("other", 0.95, hits[0])
    return None


def classify_intent(
    input: IntakeInput,  # noqa: A002
    sources: list[Source],
    *,
    has_budget: bool,
    service_hits: list[Hit],
    payment_hits: list[Hit] = (),  # type: ignore[assignment]
    names_our_invoice: bool = False,
) -> IntentVerdict:
    """The intent with the strongest signals: weighted, distinct phrases per intent, plus what the
    other fields found (a stated budget and a requested service make an inquiry). Nothing strong
    enough is `other` with a low confidence, which sends the mail to the operator's review."""
    hard = hard_other(input, sources, names_our_invoice=names_our_invoice)
    if hard is not None:
        return hard
    headers = {name.lower(): value for name, value in input.headers.items()}
    bulk_header = bool(
        headers.get("list-id")
        or headers.get("list-unsubscribe")
        or headers.get("precedence", "").lower() in {"bulk", "list", "junk"}
    )
    bulk_hits = find_hits(BULK, sources)
    pitch_hits = find_hits(PITCH, sources)
    job_hits = find_hits(JOB, sources)
    # A mailing list's headers, or an unsubscribe link, are never in a client's own mail.
    other_score = (
        (5.0 if bulk_header else 0.0)
        + (2.0 if BULK_SENDERS.match(input.from_email) else 0.0)
        + 1.5 * _score(bulk_hits, 3)
        + 3.0 * _score(find_hits(BULK_STRONG, sources), 2)
        + 1.5 * _score(pitch_hits, 4)
        + 1.5 * _score(job_hits, 4)
    )

    billing_hits = (
        find_hits(BILLING, sources)
        + find_hits(BILLING_STRONG, sources, weight=2.0)
        + find_hits(INVOICE_NUMBER, sources, weight=2.0)
    )
    scheduling_asks = find_hits(SCHEDULING_ASK, sources, weight=2.5)
    scheduling_hits = find_hits(SCHEDULING, sources) + scheduling_asks
    under_way_hits = find_hits(UNDER_WAY, sources, weight=2.5)
    change_hits = find_hits(CHANGE, sources) + under_way_hits
    # "Can you make the logo bigger" asks to change existing work; the same words are no new request.
    inquiry_hits = [
        hit
        for hit in find_hits(INQUIRY, sources)
        if not any(
            other.origin == hit.origin and hit.start < other.end and other.start < hit.end
            for other in under_way_hits
        )
    ]

    is_reply = bool(REPLY_SUBJECT.match(input.subject))
    thread_bonus = 2.0 if is_reply and PROPOSAL_SUBJECT.search(input.subject) else 0.0
    # A yes or a no is said in the body; the subject only says which thread it answers.
    body = [source for source in sources if source.origin != "subject"]
    decline_hits = find_hits(DECLINE, body, weight=3.0)
    # "We won't be going ahead" is no yes: a yes inside a no does not count.
    acceptance_hits = [
        hit
        for hit in find_hits(ACCEPTANCE, body, weight=3.0)
        if not any(
            other.origin == hit.origin and hit.start < other.end + 3 and other.start < hit.end
            for other in decline_hits
        )
        and not _conditional(sources, hit)
    ]
    # "We accept your quote" names a quote without asking for one.
    inquiry_hits = [
        hit
        for hit in inquiry_hits
        if not any(
            other.origin == hit.origin and hit.start < other.end and other.start < hit.end
            for other in acceptance_hits
        )
    ]
    # A request and a service of the catalogue in one sentence ("we need a website") is an inquiry.
    request_for_service = any(
        _same_clause(sources, hit, service_hit) for hit in inquiry_hits for service_hit in service_hits
    )
    scores = {
        "new_inquiry": _score(inquiry_hits, 5)
        + (2.5 if has_budget else 0.0)
        + (1.0 if service_hits else 0.0)
        + (2.0 if request_for_service else 0.0)
        - (1.0 if is_reply and under_way_hits else 0.0),
        "project_change": (_score(change_hits, 6) + (1.0 if is_reply else 0.0)) if change_hits else 0.0,
        # A yes or a no outweighs the small change or the invoice it mentions; in a proposal's thread more so.
        "acceptance": _score(acceptance_hits, 6) + thread_bonus if acceptance_hits else 0.0,
        "decline": _score(decline_hits, 6) + thread_bonus if decline_hits else 0.0,
        # A payment said to be made is billing mail that needs no answer but a match: it outranks billing.
        "payment_notice": 1.3 * _score(billing_hits, 6) + 3.0 * _score(list(payment_hits), 2)
        if payment_hits
        else 0.0,
        "billing": 1.3 * _score(billing_hits, 6),
        # Meeting words without a request to meet ("after our call…") say little.
        "scheduling": _score(scheduling_hits, 6) if scheduling_asks else 0.5 * _score(scheduling_hits, 2),
        "other": other_score,
    }
    # A request for new work needs a request or a budget: service words alone (a thank-you for "the
    # brochure") are not one.
    if not inquiry_hits and not has_budget:
        scores["new_inquiry"] = min(scores["new_inquiry"], 1.0)
    # Changes are about work already under way: feedback words without a project behind them are weak.
    if not under_way_hits and not is_reply:
        scores["project_change"] *= 0.6
    ranked = sorted(scores.items(), key=lambda item: (-item[1], INTENTS.index(item[0])))
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 1.5:
        return IntentVerdict("other", 0.4, None)
    confidence = 0.5 + 0.5 * (top - second) / (top + 1.0)
    hits_by_intent = {
        "new_inquiry": inquiry_hits,
        "project_change": under_way_hits or change_hits,
        "acceptance": acceptance_hits,
        "decline": decline_hits,
        "payment_notice": list(payment_hits),
        "billing": find_hits(INVOICE_NUMBER, sources) or billing_hits,
        "scheduling": scheduling_asks or scheduling_hits,
        "other": find_hits(BULK_STRONG, sources) or bulk_hits or pitch_hits or job_hits,
    }
    hits = [hit for hit in hits_by_intent[best] if hit.origin == "new_text"] or hits_by_intent[best]
    return IntentVerdict(best, round(min(0.97, max(0.35, confidence)), 2), hits[0] if hits else None)
