"""The proposal writer: the estimate and what memory knows of the client become a proposal and its cover
email, as a reply in the same thread. On the other routes it drafts what the operator needs: a change
brief (summary and change estimate), a reply to billing or scheduling mail, or a review item.

Everything inferred travels with the action as fields with their source span and confidence, so the
approval page can show the operator where each value came from. The mail's text is data: nothing in
it is followed, only read for the fields.

Records are read only through the step's client scope (`ctx.scope`): a reply states the sender's own
client's invoices and nothing else. Numbers of another client's invoices are answered like unknown
numbers, and shown to the operator beside the draft as links with figures (`source["other_clients"]`);
a sender the workspace does not know (or who writes in another client's thread) gets no record data:
their billing mail goes to the operator's review (docs/adr/0013-client-scope.md).

One module a concern: `schemas` (input and output), `evidence` (what travels with an action for the
approval page), `drafts` (the reply's thread, subject, letter and templates; the review item),
`proposal` (a proposal, a change brief), `billing` (billing questions, payment notices), `answers` (a
yes or no to a sent proposal, scheduling), `agent` (the routes and the registered agent).
"""

from agents.proposal_writer.agent import ROUTES, ProposalWriter
from agents.proposal_writer.evidence import inferred_fields
from agents.proposal_writer.proposal import PROPOSAL_TEMPLATE, VALID_DAYS
from agents.proposal_writer.schemas import WriteInput, Written

__all__ = [
    "PROPOSAL_TEMPLATE",
    "ROUTES",
    "VALID_DAYS",
    "ProposalWriter",
    "WriteInput",
    "Written",
    "inferred_fields",
]
