"""The intake: what an inbound mail asks for, in the fields of the extraction contract.

`intent`, `sender_email`, `sender_name`, `company`, `budget`, `deadline` and `services` are read from
the new text of the mail (never from quoted history or forwarded blocks when the new text has its own
words), its subject and its headers. Each inferred field carries its evidence: the snippet it was read
from, the snippet's [start, end) span in the new text (or the subject) and a confidence, so the
operator sees where a value came from.

With a model configured the `fast` tier answers, checked against the same guard rails; offline (and
whenever the model cannot) the rules answer, deterministically. The mail is untrusted data: the
prompt tells the model so, the rules never act on it, and mail that talks to an AI or asks to change
payment details is classified `other` before any model sees it. The agent proposes no actions.

The rules are general (no sample is special-cased), one concern per module: `intent` (weighted
signals), `money` (amounts and the budget), `dates` (the deadline), `catalogue` (the services asked
for), `sender` (the sender's name and company), `extract` (the fields together); `prompt` is the LLM
tier, `agent` the registered agent and `reader` the step before it that reads the stored message.

Known weaknesses of the rules (the LLM tier covers them when configured): a month alone ("in March"),
seasons and holidays give no deadline; amounts for separate items are not added up; `$`, `kr` and `¥`
are resolved by the sender's domain; a one-line company signature from a free-mail address without a
business word is missed; negation of a service only in simple forms ("already have", "don't need").
Mail whose intent is uncertain goes to the operator's review (the coordinator), except `other`.
"""

from agents.intake.agent import IntakeAgent
from agents.intake.catalogue import find_services
from agents.intake.dates import find_deadline
from agents.intake.extract import extract_rules, intake_extract, intake_input_from_mail
from agents.intake.intent import classify_intent
from agents.intake.money import amounts_in, find_budget
from agents.intake.prompt import SYSTEM_PROMPT, checked, intake_messages
from agents.intake.reader import IntakeReader, MailParts, MailRead, ReadInput, ServiceEntry
from agents.intake.schemas import (
    CONTRACT_FIELDS,
    INTENTS,
    NO_WORK_INTENTS,
    Budget,
    Evidence,
    IntakeFields,
    IntakeInput,
    Intent,
    ParsedParts,
    ServiceInfo,
)
from agents.intake.sender import find_company, find_sender_name

__all__ = [
    "CONTRACT_FIELDS",
    "INTENTS",
    "NO_WORK_INTENTS",
    "SYSTEM_PROMPT",
    "Budget",
    "Evidence",
    "IntakeAgent",
    "IntakeFields",
    "IntakeInput",
    "IntakeReader",
    "Intent",
    "MailParts",
    "MailRead",
    "ParsedParts",
    "ReadInput",
    "ServiceEntry",
    "ServiceInfo",
    "amounts_in",
    "checked",
    "classify_intent",
    "extract_rules",
    "find_budget",
    "find_company",
    "find_deadline",
    "find_sender_name",
    "find_services",
    "intake_extract",
    "intake_input_from_mail",
    "intake_messages",
]
