"""A client's data, handed back or erased, as operator-approved work of the ledger (docs/adr/0012).

`services` (asking: a `client.export` / `client.erase` task), `agents` and `workflows` (the inventory and
the proposed action), `part` (the ledger's own share of a client's data: the work about them). The
committers are in `ledger.commit.privacy`; the data work is core's (`core.privacy`).
"""
