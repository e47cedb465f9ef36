"""Workspace data that is no client's, for agents: the operator's identity, action templates and the
service catalogue. With `core.scope` (bound to them by the ledger as `ctx.scope`) and their input, this is
all agents read of core (the import-linter contract in pyproject.toml; docs/adr/0013-client-scope.md)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core import selectors


@dataclass(frozen=True)
class TemplateText:
    key: str
    subject: str
    body: str


def workspace_identity() -> dict[str, str]:
    """The workspace's and the operator's names and address (what a reply is signed with)."""
    workspace = selectors.workspace_get()
    if workspace is None:
        return {"name": "", "operator_name": "", "operator_email": ""}
    return {
        "name": workspace.name,
        "operator_name": workspace.operator_name,
        "operator_email": workspace.operator_email,
    }


def workspace_terms() -> dict[str, Any]:
    """How the workspace bills: its invoice prefix, the deposit share of an accepted proposal, and the
    late-payment terms a final reminder quotes."""
    workspace = selectors.workspace_get()
    return {
        "invoice_prefix": workspace.invoice_prefix if workspace is not None else "",
        "deposit_percent": workspace.deposit_percent if workspace is not None else Decimal("0"),
        "late_payment_text": (getattr(workspace, "late_payment_text", "") or "").strip(),
    }


def action_template_get(*, key: str) -> TemplateText | None:
    """The active action template named `key` (subject and body as Django template text), or None."""
    template = selectors.action_template_get(key=key)
    if template is None:
        return None
    return TemplateText(key=template.key, subject=template.subject, body=template.body)


def service_catalogue() -> list[dict[str, str]]:
    """The active pricing rules as plain data (what agents price and recognise services by)."""
    return selectors.service_catalogue()
