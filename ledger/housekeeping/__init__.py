"""Agents and workflows over the ledger's own state: cost reports, the approval digest, reverting a change,
and the memory janitor. Registered by `ledger.apps` when the app is ready."""
