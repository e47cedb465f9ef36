"""Open invoices brought in from another tool (`manage.py import_invoices FILE`): a JSON list or a CSV with
the columns number, client, client_email, client_iban, total, currency, issue_date, due_date.

Clients are found by email (a contact's or the client's own) or created; invoices keep the numbers they
were issued under, and the workspace's sequence of each year continues after the highest one brought in.
All rows go in one transaction: a bad row names its position and nothing is imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from core import selectors as core_selectors
from core import services as core_services

COLUMNS = ("number", "client", "client_email", "client_iban", "total", "currency", "issue_date", "due_date")


class InvoiceImportError(ValueError):
    pass


@dataclass
class InvoiceImportReport:
    created: int = 0
    existing: int = 0
    clients_created: int = 0


def _rows(content: bytes, filename: str) -> list[dict]:
    text = content.decode("utf-8-sig")
    if filename.lower().endswith(".json") or text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as error:
            raise InvoiceImportError(f"JSON line {error.lineno}, column {error.colno}: {error.msg}") from None
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise InvoiceImportError("The JSON must be a list of invoice objects.")
        return rows
    delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def _date(value, *, where: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value).strip())
    except (TypeError, ValueError):
        raise InvoiceImportError(f"{where}: {field} {value!r} is not a date (YYYY-MM-DD).") from None


@transaction.atomic
def invoices_import(*, content: bytes, filename: str, by=None) -> InvoiceImportReport:
    report = InvoiceImportReport()
    for position, row in enumerate(_rows(content, filename), start=1):
        where = f"invoice {position} ({row.get('number') or 'no number'})"
        missing = [
            column
            for column in ("number", "client", "client_email", "total")
            if not str(row.get(column) or "").strip()
        ]
        if missing:
            raise InvoiceImportError(f"{where}: missing {', '.join(missing)}.")
        try:
            email = core_services.email_normalise(row["client_email"], required=True)
            client = core_selectors.client_for_address(email=email)
            if client is None:
                client = core_services.client_create(
                    by=by,
                    name=str(row["client"]).strip(),
                    email=email,
                    status="active",
                    default_currency=(row.get("currency") or "EUR").upper(),
                )
                report.clients_created += 1
            invoice, created = core_services.invoice_import_issued(
                client=client,
                number=str(row["number"]),
                total=str(row["total"]).strip(),
                currency=(row.get("currency") or client.default_currency).upper(),
                issue_date=_date(row.get("issue_date"), where=where, field="issue_date"),
                due_date=_date(row.get("due_date") or row.get("issue_date"), where=where, field="due_date"),
                by=by,
            )
            if row.get("client_iban"):
                core_services.payer_account_remember(
                    client=client, iban=str(row["client_iban"]), name=client.name, by=by
                )
        except ValidationError as error:
            raise InvoiceImportError(f"{where}: {'; '.join(error.messages)}") from None
        report.created += created
        report.existing += not created
    return report
