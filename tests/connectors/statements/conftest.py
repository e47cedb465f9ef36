import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from core import services

DATA = Path(__file__).parent / "data"
STATEMENTS = ["november.camt053.xml", "november.mt940", "november.ofx", "november-en.csv", "november-de.csv"]


@pytest.fixture
def studio(db, operator):
    """The workspace of the billing fixtures: Northwind Studio, numbering NW-YYYY-NNNN."""
    return services.workspace_configure(
        by=operator,
        name="Northwind Studio",
        operator_name="Nora Wind",
        operator_email="nora@northwind.example",
        invoice_prefix="NW",
        default_currency="EUR",
        payment_terms_days=30,
    )


@pytest.fixture
def open_invoices(studio):
    """The open invoices described in invoices.json, brought in through `import_invoices`."""
    out = StringIO()
    call_command("import_invoices", str(DATA / "invoices.json"), stdout=out)
    return out.getvalue()


def dry_run(path: Path) -> list[dict]:
    out = StringIO()
    call_command("import_statement", str(path), "--dry-run", "--json", stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def import_file(path: Path) -> str:
    out = StringIO()
    call_command("import_statement", str(path), stdout=out)
    return out.getvalue()
