"""Canonical business records of the workspace (DESIGN §4), one module per kind of record.

Models hold data and database-level invariants (CHECK and UNIQUE constraints, and the triggers in
migrations that freeze issued invoices). Every write goes through `core.services`; nothing here
has business logic in `save()`. Importing this package registers every model of the app.
"""

from core.models.action_templates import ActionTemplate as ActionTemplate
from core.models.artifacts import Artifact as Artifact
from core.models.clients import Client as Client
from core.models.clients import Contact as Contact
from core.models.contracts import Contract as Contract
from core.models.conversations import Channel as Channel
from core.models.conversations import Conversation as Conversation
from core.models.conversations import Message as Message
from core.models.decisions import Decision as Decision
from core.models.invoices import Invoice as Invoice
from core.models.invoices import InvoiceLine as InvoiceLine
from core.models.invoices import InvoiceSequence as InvoiceSequence
from core.models.memory import MemoryItem as MemoryItem
from core.models.memory import MemoryRecall as MemoryRecall
from core.models.money import MoneyLine as MoneyLine
from core.models.notes import Note as Note
from core.models.pricing import PricingRule as PricingRule
from core.models.projects import Deliverable as Deliverable
from core.models.projects import Project as Project
from core.models.proposals import Proposal as Proposal
from core.models.proposals import ProposalLine as ProposalLine
from core.models.tokens import ApiToken as ApiToken
from core.models.workspace import Workspace as Workspace
