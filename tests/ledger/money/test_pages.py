"""The money pages (`/money/`, `/money/invoices/<id>/`): staff only, anonymous visitors sent to sign in;
aging per currency, overdue invoices with days overdue and the reminder sent, bank credits waiting for the
operator with their candidates, the latest payments; an invoice's facts, PDF and timeline. Read-only: the
waiting credits link to the bank entry's propose form, and no page posts anything."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import BankEntry, Payment
from ledger.models import Task
from tests.factories import UserFactory
from tests.ledger.money.states import Credit, bank_entries, overdue_invoice, pay, remind

pytestmark = pytest.mark.django_db
MONEY = reverse("money:overview")
AMBIGUOUS = {
    "kind": "ambiguous",
    "invoices": ["TS-2026-0001", "TS-2026-0002"],
    "reasons": ["the amount fits two invoices"],
}


def invoice_url(pk: int) -> str:
    return reverse("money:invoice", args=[pk])


@pytest.mark.parametrize("path", [MONEY, "/money/invoices/1/"])
def test_anonymous_visitors_are_sent_to_sign_in_and_see_nothing(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert b"Money" not in response.content


@pytest.mark.parametrize("path", [MONEY, "/money/invoices/1/"])
def test_pages_are_for_staff_only(client, path):
    client.force_login(UserFactory(is_staff=False))
    response = client.get(path)
    assert response.status_code == 403


def test_the_pages_answer_get_only(operator_client):
    assert operator_client.post(MONEY).status_code == 405


def test_the_money_page_shows_aging_overdue_waiting_credits_and_payments(
    operator_client, workspace, operator
):
    overdue = overdue_invoice(operator, days=12)
    remind(overdue, operator)
    paid = overdue_invoice(operator, name="Paid AB", email="ap@paid.example")
    pay(paid, operator, reference="Thanks for the workshop")
    waiting, _ = bank_entries(
        operator,
        [
            Credit("150.00", "J. Smith", "invoice 1 or 2 <b>bold</b>", "ambiguous", AMBIGUOUS),
            Credit("-80.00", "Hetzner Online GmbH", "server", "debit", {}),
        ],
    )

    response = operator_client.get(MONEY)

    assert response.status_code == 200
    page = response.content.decode()
    # Aging: one currency with its open amount and the overdue one in the 1–30 bucket.
    assert "1,400.00 EUR</strong> open in 1 invoice" in page
    # Overdue: the invoice, days overdue, the reminder sent.
    assert f'href="{invoice_url(overdue.pk)}">{overdue.number} · Berg Bakery AB</a>' in page
    assert "12 days overdue" in page and "Friendly reminder sent" in page
    # Waiting credits: amount, payer, remittance (escaped), a link per candidate to the propose form.
    propose = reverse("admin:core_bankentry_propose", args=[waiting.pk])
    assert "150.00 EUR · J. Smith" in page
    assert "invoice 1 or 2 &lt;b&gt;bold&lt;/b&gt;" in page
    label = '<span>Propose for <span class="nowrap">TS-2026-0001</span></span>'
    assert f'href="{propose}?invoices=TS-2026-0001">{label}</a>' in page
    assert f'href="{propose}?invoices=TS-2026-0002"' in page
    assert "Hetzner" not in page  # a debit is never a payment
    # Recent payments with their allocation.
    assert "1,400.00 EUR · Paid AB" in page and "Thanks for the workshop" in page
    assert f'<a href="{invoice_url(paid.pk)}">{paid.number}</a> 1,400.00' in page
    # Read-only: no form on the page but the sign-out button, so nothing can write money from here.
    forms = re.findall(r"<form[^>]*>", page)
    assert forms == ['<form method="post" action="/accounts/logout/" class="inline">']
    assert Payment.objects.count() == 1 and BankEntry.objects.get(pk=waiting.pk).status == "open"


def test_the_money_page_reads_in_a_fixed_number_of_queries(operator_client, workspace, operator):
    counts = []
    for round_ in range(2):
        for index in range(1 + 4 * round_):
            invoice = overdue_invoice(
                operator, name=f"C{round_}-{index}", email=f"{round_}-{index}@x.example"
            )
            remind(invoice, operator, key=f"remind-{round_}-{index}")
            pay(invoice, operator, amount="100.00", key=f"pay-{round_}-{index}")
        bank_entries(operator, [Credit("9.00", f"P{round_}", "?", "ambiguous", AMBIGUOUS)])
        with CaptureQueriesContext(connection) as queries:
            assert operator_client.get(MONEY).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_propose_form_opens_with_the_chosen_candidate_and_proposes_nothing_by_itself(
    operator_client, workspace, operator
):
    (entry,) = bank_entries(operator, [Credit("150.00", "J. Smith", "?", "ambiguous", AMBIGUOUS)])
    url = reverse("admin:core_bankentry_propose", args=[entry.pk])

    response = operator_client.get(f"{url}?invoices=TS-2026-0002")

    assert response.status_code == 200
    assert b'value="TS-2026-0002"' in response.content
    entry.refresh_from_db()
    assert entry.status == "open" and not Task.objects.filter(workflow="payment.propose").exists()


def test_the_invoice_page_shows_its_facts_pdf_and_timeline(operator_client, workspace, operator):
    invoice = overdue_invoice(operator, days=12)
    task = remind(invoice, operator)
    pay(invoice, operator, amount="400.00", key="part")

    response = operator_client.get(invoice_url(invoice.pk))

    assert response.status_code == 200
    page = response.content.decode()
    assert f"{invoice.number} · Berg Bakery AB" in page
    assert "12 days overdue" in page
    assert "1,000.00 EUR" in page  # still owed after the part payment
    assert f'href="/api/v1/invoices/{invoice.pk}/pdf"' in page
    assert reverse("admin:core_invoice_change", args=[invoice.pk]) in page
    titles = re.findall(r"<strong>([^<]+)</strong></p>", page)
    assert titles[:5] == [
        "Created as a draft",
        f"Issued as {invoice.number}",
        "Document frozen",
        "Marked sent",
        "Overdue",
    ]
    assert "Friendly reminder sent" in titles and "Payment of 400.00 EUR allocated" in titles
    assert f'href="{reverse("ledger:task", args=[task.pk])}"' in page


def test_an_unknown_invoice_is_404(operator_client):
    assert operator_client.get(invoice_url(987654)).status_code == 404


def test_the_approval_list_and_the_home_page_link_to_money(operator_client, workspace):
    for path in (reverse("approvals:list"), reverse("home")):
        assert f'href="{MONEY}"' in operator_client.get(path).content.decode()
