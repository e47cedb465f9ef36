"""Payments and their allocation (core.services.payments), and invoices brought in from another tool."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from core import selectors, services
from core.models import Client, Invoice, InvoiceSequence, PaymentAllocation
from ledger import approvals
from ledger import services as ledger_services
from ledger.models import ApprovalRequest
from tests.factories import ClientFactory, InvoiceFactory
from tests.ledger.proposers import propose

pytestmark = pytest.mark.django_db
D = Decimal
DAY = dt.date(2026, 11, 20)


def issued(client, price="100.00", by=None):
    lines = [{"description": "Work", "quantity": 1, "unit_price": price}]
    return services.invoice_issue(invoice=InvoiceFactory(client=client, lines=lines), by=by)


def pay(client, amount, *allocations, by=None):
    return services.payment_record(
        client=client,
        amount=amount,
        currency="EUR",
        received_on=DAY,
        by=by,
        allocations=[{"invoice": invoice, "amount": part} for invoice, part in allocations],
    )


def test_partial_payments_leave_the_rest_open_until_covered(workspace, operator):
    client = ClientFactory()
    invoice = issued(client, "300.00")

    pay(client, "100.00", (invoice, "100.00"), by=operator)
    invoice.refresh_from_db()
    assert invoice.status == "approved" and invoice.paid_at is None
    assert selectors.invoice_open_amount(invoice=invoice) == D("200.00")

    pay(client, "200.00", (invoice, "200.00"), by=operator)
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.paid_at.date() == DAY
    assert selectors.invoice_open_amount(invoice=invoice) == D("0.00")
    latest = invoice.history.first()
    assert (latest.status, latest.history_user) == ("paid", operator)


def test_overpayment_is_credit_that_can_be_allocated_later(workspace, operator):
    client = ClientFactory()
    first, second = issued(client, "100.00"), issued(client, "40.00")
    payment = pay(client, "150.00", (first, "100.00"))
    assert selectors.client_credit(client_id=client.pk) == {"EUR": D("50.00")}

    services.payment_allocate(payment=payment, invoice=second, amount="40.00", by=operator)

    second.refresh_from_db()
    assert second.status == "paid"
    assert selectors.client_credit(client_id=client.pk) == {"EUR": D("10.00")}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": "150.00"}, "less than 150.00"),  # more than is open
        ({"other_client": True}, "another client"),
        ({"currency": "SEK"}, "is in EUR"),
        ({"allocation_over_payment": True}, "left to allocate"),
    ],
)
def test_allocations_that_do_not_fit_are_refused_and_nothing_is_written(workspace, change, message):
    client = ClientFactory()
    invoice = issued(client, "100.00")
    owner = ClientFactory() if change.get("other_client") else client
    amount = "20.00" if change.get("allocation_over_payment") else change.get("amount", "100.00")
    with pytest.raises(ValidationError, match=message):
        services.payment_record(
            client=owner,
            amount=amount,
            currency=change.get("currency", "EUR"),
            received_on=DAY,
            by=None,
            allocations=[{"invoice": invoice, "amount": change.get("amount", "50.00")}],
        )
    invoice.refresh_from_db()
    assert invoice.status == "approved" and not PaymentAllocation.objects.exists()
    assert not owner.payments.exists()


def test_a_paid_or_void_invoice_takes_no_allocation(workspace, operator):
    client = ClientFactory()
    invoice = issued(client)
    services.invoice_void(invoice=invoice, by=operator, reason="wrong")
    with pytest.raises(ValidationError, match="void, not open"):
        pay(client, "100.00", (invoice, "100.00"))


def test_the_database_refuses_a_non_positive_payment(workspace):
    client = ClientFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        client.payments.create(amount=D("0"), currency="EUR", received_on=DAY)


def test_recording_a_payment_is_a_money_action_that_waits_for_the_operator(workspace, operator):
    client = ClientFactory()
    invoice = issued(client, "80.00")
    payload = {
        "client_id": client.pk,
        "amount": "100.00",
        "currency": "EUR",
        "received_on": "2026-11-20",
        "source": "email",
        "allocations": [{"invoice_id": invoice.pk, "amount": "80.00"}],
    }
    task, outcome = propose({"kind": "payment.record", "payload": payload}, key="pay-1")
    assert (outcome, task.status) == ("waiting-approval", "waiting_approval")
    invoice.refresh_from_db()
    assert invoice.status == "approved" and not client.payments.exists()

    approval = ApprovalRequest.objects.get(task=task, status="pending")
    approvals.approval_approve(approval=approval, by=operator)
    ledger_services.task_execute(task_id=task.pk)

    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert selectors.client_credit(client_id=client.pk) == {"EUR": D("20.00")}
    assert client.payments.get().source == "email"


# --- import_invoices ------------------------------------------------------------------------------

CSV = """number,client,client_email,client_iban,total,currency,issue_date,due_date
TS-2026-0041,Berg Bakery AB,Jonas@BergBakery.se,SE35 5000 0000 0549 1000 0003,1400,EUR,2026-10-11,2026-11-10
TS-2026-0007,Existing Ltd,billing@existing.example,,99.50,EUR,2026-10-12,2026-11-11
TS-2025-0120,Berg Bakery AB,jonas@bergbakery.se,,10.00,EUR,2025-12-01,2025-12-31
"""


def test_import_invoices_csv_keeps_numbers_and_the_sequence_continues_after_them(
    workspace, operator, tmp_path
):
    existing = ClientFactory(name="Existing Ltd", email="billing@existing.example")
    path = tmp_path / "open.csv"
    path.write_text(CSV)
    out = StringIO()
    call_command("import_invoices", str(path), stdout=out)
    assert "3 invoices imported, 0 already there, 1 clients created" in out.getvalue()
    assert Invoice.objects.get(number="TS-2026-0007").client == existing
    berg = Client.objects.get(email="jonas@bergbakery.se")
    assert berg.invoices.count() == 2
    assert berg.payer_accounts.get().iban == "SE3550000000054910000003"
    imported = Invoice.objects.get(number="TS-2026-0041")
    assert (imported.status, imported.total, imported.issue_date) == (
        "approved",
        D("1400.00"),
        dt.date(2026, 10, 11),
    )
    assert dict(InvoiceSequence.objects.values_list("year", "last_number")) == {2025: 120, 2026: 41}

    # A new invoice needs the client's billing details, which the import did not bring.
    berg = services.client_update(
        client=berg,
        by=operator,
        billing_street="Storgatan 1",
        billing_postcode="111 22",
        billing_city="Stockholm",
        country="SE",
    )
    nxt = services.invoice_issue(
        invoice=InvoiceFactory(client=berg), by=operator, issue_date=dt.date(2026, 11, 30)
    )
    assert nxt.number == "TS-2026-0042"

    call_command("import_invoices", str(path), stdout=out)  # again: nothing new
    assert "0 invoices imported, 3 already there" in out.getvalue()
    assert Invoice.objects.count() == 4


def test_import_invoices_with_a_bad_row_imports_nothing(workspace, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        '[{"number": "TS-2026-0001", "client": "A", "client_email": "a@a.example", "total": "1.00",'
        ' "currency": "EUR", "issue_date": "2026-10-01", "due_date": "2026-10-31"},'
        ' {"number": "TS-2026-0002", "client": "B", "client_email": "b@b.example", "total": "1.00",'
        ' "currency": "EUR", "issue_date": "01/10/2026", "due_date": "2026-10-31"}]'
    )
    with pytest.raises(
        CommandError, match=r"invoice 2 \(TS-2026-0002\): issue_date '01/10/2026' is not a date"
    ):
        call_command("import_invoices", str(path), stdout=StringIO())
    assert Invoice.objects.count() == 0 and Client.objects.count() == 0
