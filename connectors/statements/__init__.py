"""Bank statements in (ADR 0016): CAMT.053, MT940, OFX and CSV read into one entry shape
(`entries.ParsedEntry`), then matched to open invoices and stored by `importer.statement_import`.

A statement is untrusted input from outside: parsing never resolves XML entities, a bad file gets an error
naming its line or element, and nothing it says moves money without the operator.
"""

from connectors.statements.entries import ParsedEntry, ParsedStatement, StatementError
from connectors.statements.importer import ImportReport, statement_import, statement_parse

__all__ = [
    "ImportReport",
    "ParsedEntry",
    "ParsedStatement",
    "StatementError",
    "statement_import",
    "statement_parse",
]
