"""The back office of the task ledger.

Tasks, their timelines, actions, outbox emails and LLM calls are written only by the conductor
(`ledger.services`), so they are shown read-only here. What the operator may do to them — retry or discard
a dead letter, cancel a task, approve or reject a proposed action — are admin actions that call one
service per selected row and report each refusal as a message. The price table per model is the one
thing edited here, with its history. "Agents and workflows" lists the registry declared in code.

The policy editor, the approval queue and the autonomy suggestions are in `policies` and `approvals`; the
read-only registry page of agents and workflows is in `registry`. Importing this package registers them all.
"""

from ledger.admin import actions, approvals, llm, policies, registry, tasks

__all__ = ["actions", "approvals", "llm", "policies", "registry", "tasks"]
