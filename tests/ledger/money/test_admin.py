"""Money in the back office: the invoice's page shows its timeline (built by the ledger through core's
port) with the tasks linked; the bank entries' "waiting for the operator" filter lists the credits no
payment was proposed for, never debits; the payments' allocation filter finds the ones with credit left."""

import pytest
from django.urls import reverse

from core import services as core_services
from core.models import BankEntry
from tests.ledger.money.states import Credit, bank_entries, overdue_invoice, pay, remind, today

pytestmark = pytest.mark.django_db


def test_the_invoice_page_shows_its_timeline_with_the_tasks(operator_client, workspace, operator):
    invoice = overdue_invoice(operator)
    task = remind(invoice, operator)

    response = operator_client.get(reverse("admin:core_invoice_change", args=[invoice.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert '<table class="invoice-timeline">' in page
    for title in (f"Issued as {invoice.number}", "Document frozen", "Overdue", "Friendly reminder sent"):
        assert f"<strong>{title}</strong>" in page
    assert (
        f'<a href="{reverse("ledger:task", args=[task.pk])}">task {str(task.pk)[:8]} (test.propose)</a>'
        in page
    )
    assert "receivables sweep" in page


def test_the_waiting_filter_lists_open_credits_only(operator_client, workspace, operator):
    waiting, debit, proposed = bank_entries(
        operator,
        [
            Credit("150.00", "Waiting Payer", "?", "ambiguous", {"kind": "ambiguous", "invoices": []}),
            Credit("-80.00", "Debit Payee", "server", "debit", {}),
            Credit("90.00", "Proposed Payer", "TS-1", "exact", {"kind": "exact"}),
        ],
    )
    # As the importer stores a matched credit whose payment it proposed (connectors.statements).
    BankEntry.objects.filter(pk=proposed.pk).update(status=BankEntry.Status.PROPOSED)
    changelist = reverse("admin:core_bankentry_changelist")

    response = operator_client.get(changelist, {"waiting": "yes"})

    assert response.status_code == 200
    assert [row.pk for row in response.context["cl"].result_list] == [waiting.pk]
    assert "Credits waiting for the operator" in response.content.decode()
    others = operator_client.get(changelist, {"waiting": "no"}).context["cl"].result_list
    assert {row.pk for row in others} == {debit.pk, proposed.pk}


def test_the_allocation_filter_finds_payments_with_credit_left(operator_client, workspace, operator):
    invoice = overdue_invoice(operator)
    pay(invoice, operator, amount="400.00", key="part")
    full = overdue_invoice(operator, name="Full AB", email="ap@full.example")
    pay(full, operator, key="full")
    unallocated = core_services.payment_record(
        client=invoice.client, amount="50.00", currency="EUR", received_on=today(), by=operator
    )
    changelist = reverse("admin:core_payment_changelist")

    def listed(value: str) -> set:
        response = operator_client.get(changelist, {"allocated": value})
        assert response.status_code == 200
        return {payment.amount for payment in response.context["cl"].result_list}

    assert listed("credit") == {unallocated.amount}
    assert listed("none") == {unallocated.amount}
    assert {str(amount) for amount in listed("full")} == {"400.00", "1400.00"}
