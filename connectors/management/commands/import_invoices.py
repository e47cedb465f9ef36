"""`manage.py import_invoices FILE`: open invoices from another tool (JSON list or CSV; see
connectors.invoices_import). Running it twice imports nothing new."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from connectors.invoices_import import InvoiceImportError, invoices_import


class Command(BaseCommand):
    help = "Import issued invoices (JSON or CSV) under their own numbers; the sequence continues after them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            report = invoices_import(content=path.read_bytes(), filename=path.name)
        except InvoiceImportError as error:
            raise CommandError(f"{path.name}: {error}. Nothing was imported.") from None
        self.stdout.write(
            f"{report.created} invoices imported, {report.existing} already there, "
            f"{report.clients_created} clients created."
        )
