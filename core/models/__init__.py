"""Canonical business records of the workspace (DESIGN §4), one module per domain.

Models hold data and database-level invariants (CHECK and UNIQUE constraints, and the triggers in
migrations that freeze issued invoices). Every write goes through `core.services`; nothing here
has business logic in `save()`. Importing this package registers every model of the app. The records'
states and kinds are in `core.states` (`Invoice.Status` is `core.states.InvoiceStatus`).
"""

from core.models.clients import Client as Client
from core.models.clients import Contact as Contact
from core.models.clients import Contract as Contract
from core.models.clients import Deliverable as Deliverable
from core.models.clients import Project as Project
from core.models.conversations import Artifact as Artifact
from core.models.conversations import Conversation as Conversation
from core.models.conversations import Decision as Decision
from core.models.conversations import Message as Message
from core.models.conversations import Note as Note
from core.models.memory import MemoryItem as MemoryItem
from core.models.memory import MemoryRecall as MemoryRecall
from core.models.money import CreditNote as CreditNote
from core.models.money import Invoice as Invoice
from core.models.money import InvoiceLine as InvoiceLine
from core.models.money import InvoiceReminder as InvoiceReminder
from core.models.money import InvoiceSequence as InvoiceSequence
from core.models.money import MoneyLine as MoneyLine
from core.models.money import Proposal as Proposal
from core.models.money import ProposalLine as ProposalLine
from core.models.payments import BankCsvMapping as BankCsvMapping
from core.models.payments import BankEntry as BankEntry
from core.models.payments import BankStatement as BankStatement
from core.models.payments import PayerAccount as PayerAccount
from core.models.payments import Payment as Payment
from core.models.payments import PaymentAllocation as PaymentAllocation
from core.models.tokens import ApiToken as ApiToken
from core.models.workspace import ActionTemplate as ActionTemplate
from core.models.workspace import PricingRule as PricingRule
from core.models.workspace import Workspace as Workspace
from core.states import Channel as Channel
