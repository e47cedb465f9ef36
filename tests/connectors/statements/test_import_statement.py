import json

import pytest

from core.models import BankEntry, BankStatement, Client, Invoice, PayerAccount
from ledger.models import Task
from tests.connectors.statements.conftest import DATA, STATEMENTS, dry_run

pytestmark = pytest.mark.django_db

EXPECTED = json.loads((DATA / "expected.json").read_text())


def test_import_invoices_finds_or_creates_clients_and_keeps_numbers(open_invoices):
    assert "10 invoices imported, 0 already there, 9 clients created" in open_invoices
    assert Invoice.objects.filter(status="approved").count() == 10
    holm = Client.objects.get(email="ap@holmceramics.dk")
    assert sorted(holm.invoices.values_list("number", flat=True)) == ["NW-2026-0004", "NW-2026-0005"]
    assert set(PayerAccount.objects.values_list("iban", flat=True)) == {
        "SE3550000000054910000003",
        "DK5000400440116243",
        "DE89370400440532013000",
    }


@pytest.mark.parametrize("name", STATEMENTS)
def test_dry_run_json_gives_the_expected_matches(open_invoices, name):
    rows = dry_run(DATA / name)

    assert [{key: row[key] for key in EXPECTED[name][0]} for row in rows] == EXPECTED[name]
    assert all(
        set(row) == {"entry_ref", "booked_on", "amount", "currency", "counterparty", "remittance", "match"}
        for row in rows
    )
    assert all(row["entry_ref"] for row in rows)
    # A dry run writes nothing.
    assert BankStatement.objects.count() == 0 and BankEntry.objects.count() == 0
    assert not Task.objects.filter(workflow="payment.propose").exists()


def test_dry_run_reads_remittance_apart_from_the_payer_in_free_text_mt940(open_invoices):
    rows = {row["amount"]: row for row in dry_run(DATA / "november.mt940")}
    assert rows["2050.00"]["remittance"] == "Invoices NW-2026-0004 and NW-2026-0005"
    assert rows["1750.00"]["remittance"] == "Danke fuer die Zusammenarbeit"
    assert rows["45.50"]["remittance"] == "Gutschrift Rueckerstattung"
