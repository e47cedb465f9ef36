"""`manage.py import_statement FILE [--dry-run] [--json]`: a bank statement (CAMT.053, MT940, OFX, CSV).

`--dry-run --json` prints one JSON object per credit entry (debits are read but never matched) and
writes nothing. Without `--dry-run` the statement and its entries are stored in one transaction, and each
matched credit proposes a payment through the ledger, waiting for the operator. Importing the same file
twice creates nothing new. A file that cannot be read fails with the line or element at fault and is kept
as an artifact for review.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from connectors.statements import StatementError, statement_import


class Command(BaseCommand):
    help = "Import a bank statement (CAMT.053, MT940, OFX or CSV) and match its credits to open invoices."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="The statement file.")
        parser.add_argument("--dry-run", action="store_true", help="Read and match only; write nothing.")
        parser.add_argument("--json", action="store_true", help="One JSON object per credit entry.")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            report = statement_import(
                content=path.read_bytes(), filename=path.name, dry_run=options["dry_run"]
            )
        except StatementError as error:
            kept = (
                ""
                if options["dry_run"]
                else " The file is kept as an artifact for review; nothing was imported."
            )
            raise CommandError(f"{path.name}: {error}{kept}") from None
        if options["json"]:
            for row in report.credits_json():
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            return
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.kinds.items())) or "no credits"
        if options["dry_run"]:
            self.stdout.write(f"{path.name} ({report.format}): {len(report.rows)} entries; credits: {kinds}.")
        elif not report.created:
            self.stdout.write(
                f"{path.name} was imported before (statement {report.statement_id}); nothing new."
            )
        else:
            self.stdout.write(
                f"{path.name} ({report.format}): {report.new_entries} new entries; credits: {kinds}; "
                f"{report.proposed} payments proposed, waiting for approval."
            )
