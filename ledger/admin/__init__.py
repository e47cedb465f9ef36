"""The back office of the task ledger.

Tasks, their timelines, actions, outbox emails and LLM calls are written only by the conductor
(`ledger.services`), so they are shown read-only here. What the operator may do to them — retry or discard
a dead letter, cancel a task, approve or reject a proposed action — are admin actions that call one
service per selected row and report each refusal as a message. The price table per model is the one
thing edited here, with its history. "Agents and workflows" lists the registry declared in code.

`tasks` holds tasks, their timelines, LLM calls and prices; `actions` the actions, the approval queue, the
outbox and the autonomy suggestions; `notices` what the operator must see (shown on the admin index and the
home page until resolved); `policies` the policy editor; `registry` the read-only page of agents
and workflows. Importing this package registers them all.
"""

from ledger.admin import actions, notices, policies, registry, tasks

__all__ = ["actions", "notices", "policies", "registry", "tasks"]
