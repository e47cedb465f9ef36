"""The services a mail asks for, by keywords and synonyms of the workspace's catalogue: not negated,
not only the context of other work, not only a reply's subject; a broader service absorbs a narrower."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from agents.intake.intent import THREAD_SUBJECT
from agents.intake.schemas import ServiceInfo
from agents.intake.text import Hit, Source, clause_before, clause_bounds, fold

# Words for the demo catalogue's services beyond their names; a catalogue with other keys is read by
# the words of each service's name (and, with two distinct hits, its description).
SERVICE_SYNONYMS: dict[str, list[str]] = {
    "landing_page": [
        r"landing[-\s]?pages?",
        r"(?:one|single)[-\s]?pag(?:e|er)(?:\s+(?:web)?site|\s+website)?",
        r"(?:launch|campaign|splash|promo|event|waitlist|pre-?order)\s+(?:page|site|microsite)",
        r"micro-?sites?",
        r"squeeze\s+page|sales\s+page|signup\s+page|sign-up\s+page",
    ],
    "ecommerce": [
        r"e-?commerce",
        r"online[-\s](?:store|shop|boutique)s?",
        r"web[-\s]?shops?|webstores?|web\s+stores?|nettbutikk|webbutik|webbshop|boutique\s+en\s+ligne",
        r"shopify|woocommerce|shopware|magento|bigcommerce",
        r"sell(?:ing)?\s+(?:\w+\s+){0,4}online",
        r"(?:shopping\s+)?cart\s+and\s+checkout|checkout",
        r"product\s+catalog(?:ue)?",
        r"shop(?=\s+(?:live|online|launch\w*|go(?:es)?\s+live))|(?:launch|open)\s+(?:the|our|my)\s+(?:online\s+)?shop",
    ],
    "brand_identity": [
        r"re-?brand(?:ing|ed)?",
        r"brand(?:ing)?\s+identity|visual\s+identity|corporate\s+identity|corporate\s+design|brand\s+design",
        r"(?:new|whole|complete|full)\s+(?:brand\s+)?identity|the\s+whole\s+identity",
        r"brand\s+(?:guide(?:lines)?|book|manual|refresh|package)|style\s+guide",
        r"branding",
        r"colou?r\s+palette|colou?rs\s*,\s*typography|typography",
    ],
    "logo": [r"logos?", r"logotypes?", r"word-?marks?", r"logo-?marks?", r"brand\s+mark"],
    "copywriting": [
        r"copy-?writ\w*",
        # "copy" as text to write, not "a copy of the contract" or "I'll copy my colleague in".
        r"(?:web(?:site)?|marketing|product|sales|ad|brand|the|some|new|site|page|landing\s+page)\s+copy\b(?!\s+of)",
        r"copy\s+(?:for|and)\b",
        r"(?:the\s+|our\s+|web\s+|website\s+|product\s+|page\s+)texts?",
        r"writ(?:e|ing|ten)\s+(?:\w+\s+){0,2}(?:texts?|copy|content|descriptions)",
        r"product\s+(?:\w+\s+)?descriptions?|descriptions?\s+written",
        r"writ(?:e|ing)\s+(?:the\s+|our\s+|all\s+)?(?:content|texts?|copy|words)",
        r"content\s+writ\w*|writers?|texter|texte",
        r"(?:brochure|flyer|catalog(?:ue)?|newsletter|blog)\s+(?:texts?|copy)|texts?\s+(?:written|writing)",
    ],
    "seo_audit": [
        r"seo(?:\s+(?:audit|review|check|analysis))?",
        r"search\s+engine\s+optimi[sz]ation",
        r"(?:google\s+)?rankings?|rank(?:ing)?\s+(?:better\s+)?(?:on|in)\s+google",
        r"search\s+visibility|found\s+on\s+google",
    ],
    "ux_audit": [
        r"ux\s+(?:review|audit|analysis|evaluation)",
        r"usability(?:\s+(?:review|audit|test\w*))?",
        r"user\s+experience(?:\s+review)?",
        r"heuristic\s+(?:review|evaluation)",
    ],
    "illustration": [
        r"illustrat\w+",
        r"(?:custom\s+)?icons?(?:\s+set)?",
        r"drawings?",
        r"mascots?",
        r"hand-?drawn",
    ],
    "maintenance": [
        r"maint(?:enance|ain|aining)",
        r"retainer",
        r"(?:ongoing|monthly|regular)\s+(?:support|updates|care)",
        r"backups?",
        r"keep\s+(?:it|the\s+(?:web)?site)\s+up\s+to\s+date",
        r"care\s+plan|support\s+plan",
    ],
    "website": [
        r"web-?sites?|web\s+sites?|homepages?|home\s+pages?",
        r"(?<![-\w])sites?\b",
        r"web\s+pages?|(?:\d+|two|three|four|five|six|seven|eight|nine|ten|more)\s+(?:more\s+)?(?:sub-?)?pages",
        r"(?:site|web)\s+redesign|redesign\s+(?:of\s+)?(?:our|the|my)\s+(?:web)?site",
        r"wordpress|webflow|squarespace|wix",
    ],
}
# Services a broader one of the catalogue includes: asking for both means the broader one.
SUBSUMED_BY: dict[str, set[str]] = {"brand_identity": {"logo"}}
_GENERIC_NAME_WORDS = frozenset(
    "a an and or of the for with design package custom service services new small basic premium plan "
    "per page piece month hour day".split()
)
_DESCRIPTION_STOPWORDS = frozenset(
    """a an and or of the for with to in on by from as at is are be it its this that these those your our
    new existing small short single multi web online page pages site sites app apps product products
    priced per piece month hour day set up list two three one delivered files file monthly changes
    updates support review expert designed built hosted platform raster vector rounds revision""".split()
)
NEGATION_BEFORE = re.compile(
    r"\b(?:already\s+(?:have|got|own)|(?:don'?t|do\s+not|doesn'?t|does\s+not|won'?t)\s+need|no\s+need\s+for|"
    r"not\s+(?:looking\s+for|interested\s+in|need(?:ing)?)|without|except|excluding|apart\s+from|"
    r"other\s+than|keep(?:ing)?\s+(?:our|the|my)|happy\s+with\s+(?:our|the|my)|not\s+(?:a|the))\b"
    r"[^.!?\n,;]{0,25}$",
    re.IGNORECASE,
)
NEGATION_AFTER = re.compile(
    r"^[^.!?\n]{0,20}\b(?:is|are)\s+(?:already\s+)?(?:done|finished|sorted|fine|taken\s+care\s+of|not\s+needed)"
    r"|^\s*(?:is\s+)?not\s+needed",
    re.IGNORECASE,
)


def _name_terms(key: str, service_name: str) -> list[str]:
    """Phrases for a service from its key and name ("Maintenance retainer" → "maintenance", "retainer").

    The single words of a name are only used for services the synonym table does not know: for known
    ones they are too loose ("shop" of "Online shop" would make a repair shop a web shop)."""
    name = fold(service_name)
    terms = {name.strip(), fold(key.replace("_", " "))}
    if key not in SERVICE_SYNONYMS:
        words = [word for word in re.findall(r"[a-z0-9]+", name) if word not in _GENERIC_NAME_WORDS]
        terms.update(word for word in words if len(word) > 2)
    return sorted((re.escape(term) + r"s?" for term in terms if term), key=len, reverse=True)


def _service_patterns(services: list[ServiceInfo]) -> list[tuple[str, re.Pattern[str]]]:
    return _compiled_service_patterns(tuple((service.key, service.name) for service in services))


@functools.lru_cache(maxsize=32)
def _compiled_service_patterns(catalogue: tuple[tuple[str, str], ...]) -> list[tuple[str, re.Pattern[str]]]:
    """(key, pattern) in matching order: the most specific services first, so that "one-page site"
    is a landing page and not a website, and "online store" a shop. Cached: a catalogue rarely changes."""
    known_order = list(SERVICE_SYNONYMS)
    ordered = sorted(
        catalogue, key=lambda entry: known_order.index(entry[0]) if entry[0] in known_order else -1
    )
    patterns = []
    for key, name in ordered:
        phrases = SERVICE_SYNONYMS.get(key, []) + _name_terms(key, name)
        patterns.append((key, re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)))
    return patterns


def _description_terms(services: list[ServiceInfo]) -> dict[str, set[str]]:
    """Distinctive description words of each service (in no other service's description)."""
    words = {
        service.key: {
            word.rstrip("s")
            for word in re.findall(r"[a-z]+", fold(service.description))
            if len(word) > 3 and word not in _DESCRIPTION_STOPWORDS
        }
        for service in services
    }
    return {
        key: {word for word in own if not any(word in other for k, other in words.items() if k != key)}
        for key, own in words.items()
    }


@dataclass
class ServicesFound:
    keys: list[str]
    hits: dict[str, Hit]


# A site named as the place of other work ("an SEO audit for our site", "copy for 5 pages", "now that
# the website is live") is context, not a request for a website, unless words of building stand by it.
_EXISTING_REFERENCE = re.compile(
    r"\b(?:our|my|the|your|this|existing|current|old)\s+(?:\w+\s+)?$", re.IGNORECASE
)
_BUILD_WORDS = re.compile(
    r"\b(?:new|redesign\w*|rebuild\w*|redo|relaunch\w*|refresh\w*|revamp\w*|overhaul\w*|build\w*|"
    r"creat\w*|make|design|proper|modern\w*|update\s+(?:the\s+)?(?:look|design))\b",
    re.IGNORECASE,
)
CONTEXT_SERVICES = frozenset({"website"})


def _is_context_mention(source: Source, hit: Hit) -> bool:
    if re.match(r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|more)\s", hit.text, re.IGNORECASE):
        return True  # a page count belongs to whatever is made for the pages
    left, right = clause_bounds(source.text, hit.start, hit.end)
    if _BUILD_WORDS.search(source.text[max(left, hit.start - 25) : min(right, hit.end + 25)]):
        return False
    return bool(_EXISTING_REFERENCE.search(source.text[max(left, hit.start - 30) : hit.start]))


def find_services(sources: list[Source], services: list[ServiceInfo]) -> ServicesFound:
    """The catalogue's services the mail asks for: keyword and synonym matches that are not negated
    ("we already have a logo"), not only the context of other work ("an audit of our site"), and not
    only the topic of an earlier mail (a reply's subject); a broader service absorbs a narrower one."""
    found: dict[str, list[tuple[Source, Hit]]] = {}
    for source in sources:
        taken: list[tuple[int, int]] = []
        for key, pattern in _service_patterns(services):
            for match in pattern.finditer(source.text):
                start, end = match.start(), match.end()
                if any(start < other_end and other_start < end for other_start, other_end in taken):
                    continue
                taken.append((start, end))
                if NEGATION_BEFORE.search(clause_before(source.text, start, 40)) or NEGATION_AFTER.search(
                    source.text[end : end + 40]
                ):
                    continue
                found.setdefault(key, []).append((source, Hit(source.origin, start, end, match.group(0))))
    # The subject of a reply or a forward names the earlier mail's topic: it counts only when the new
    # text names no service of its own.
    if any(source.origin != "subject" for entries in found.values() for source, _ in entries):
        found = {
            key: kept
            for key, entries in found.items()
            if (
                kept := [
                    (source, hit)
                    for source, hit in entries
                    if not (source.origin == "subject" and THREAD_SUBJECT.match(source.text))
                ]
            )
        }
    for key in CONTEXT_SERVICES & set(found):
        others = set(found) - {key}
        if others and all(_is_context_mention(source, hit) for source, hit in found[key]):
            del found[key]
    hits = {key: entries[0][1] for key, entries in found.items()}
    # Services the synonym table does not know: two distinct words of their description are enough.
    for key, terms in _description_terms([s for s in services if s.key not in SERVICE_SYNONYMS]).items():
        if key in hits or not terms:
            continue
        for source in sources:
            matches = [
                match
                for match in re.finditer(r"[A-Za-zÀ-ÿ]+", source.text)
                if fold(match.group(0)).rstrip("s") in terms
            ]
            if len({fold(match.group(0)).rstrip("s") for match in matches}) >= 2:
                hits[key] = Hit(source.origin, matches[0].start(), matches[0].end(), matches[0].group(0), 0.5)
                break
    for broader, narrower in SUBSUMED_BY.items():
        if broader in hits:
            for key in narrower:
                hits.pop(key, None)
    # In the catalogue's order (the order of the workspace's pricing rules), like the estimate's lines.
    order = {service.key: index for index, service in enumerate(services)}
    return ServicesFound(sorted(hits, key=lambda key: (order.get(key, len(order)), key)), hits)
