"""The back office for the canonical records.

Every write made here goes through `core.services`, exactly as the API and the agents' commits do:
the admin's forms only parse input. A service's `ValidationError` becomes an error on the form
(see `ServiceAdmin`), never a server error. Records that a service does not let change (issued
invoices, sent proposals, messages, files, decisions) are shown read-only, their history can be
read but not reverted, and nothing is deleted for which no service exists.

`base` holds what the admins share, `actions` the admin actions that call a service per row, and
`lines` the priced lines of proposals and invoices; each other module registers the admins of one
area, and importing it here is what registers them.
"""

from core.admin import clients, conversations, memory, money, payments, tokens, workspace

# The area modules, imported for their registrations. Other apps' admins use `core.admin.base`.
__all__ = ["clients", "conversations", "memory", "money", "payments", "tokens", "workspace"]
