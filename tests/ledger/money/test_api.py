"""The money API: an invoice's timeline, payments with their allocations and bank entries by whether they
wait for the operator — token or session auth like the rest (401 without), 404 with a message for an
unknown invoice, pages read in a fixed number of queries, and nothing written."""

import pytest
from django.test import Client as HttpClient

from core import services as core_services
from core.models import BankEntry, Payment, PaymentAllocation
from tests.factories import UserFactory
from tests.ledger.money.states import Credit, bank_entries, overdue_invoice, pay, remind

pytestmark = pytest.mark.django_db

ENDPOINTS = ("/api/v1/invoices/1/timeline", "/api/v1/payments", "/api/v1/bank-entries")
AMBIGUOUS = {
    "kind": "ambiguous",
    "invoices": ["TS-2026-0001", "TS-2026-0002"],
    "client_id": None,
    "allocations": [],
    "credit_left": "0.00",
    "reasons": ["the amount fits two invoices of J. Smith"],
}


@pytest.fixture
def api(operator):
    _, raw = core_services.api_token_create(user=operator, name="money tests")
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


@pytest.mark.parametrize("path", ENDPOINTS)
def test_without_credentials_nothing_is_answered(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_user_who_is_not_staff_is_refused(client, path):
    client.force_login(UserFactory(is_staff=False))
    assert client.get(path).status_code == 403


def test_the_timeline_of_an_invoice(api, workspace, operator):
    invoice = overdue_invoice(operator)
    task = remind(invoice, operator)

    response = api.get(f"/api/v1/invoices/{invoice.pk}/timeline")

    assert response.status_code == 200
    events = response.json()
    assert [event["kind"] for event in events] == [
        "created",
        "issued",
        "document",
        "sent",
        "overdue",
        "reminder_proposed",
        "action",
        "reminder_sent",
    ]
    sent = events[-1]
    assert sent["task_id"] == str(task.pk) and sent["task_workflow"] == "test.propose"
    assert sent["title"] == "Friendly reminder sent" and sent["by"].startswith("task ")
    assert events[1]["title"] == f"Issued as {invoice.number}" and events[1]["by"] == operator.get_username()


@pytest.mark.parametrize("invoice_id", ["987654", "1"])
def test_an_unknown_invoice_is_404_with_a_message(api, invoice_id):
    response = api.get(f"/api/v1/invoices/{invoice_id}/timeline")
    assert response.status_code == 404
    assert response.json() == {"detail": f"There is no invoice with id {invoice_id}."}


@pytest.mark.parametrize("invoice_id", ["0", "-3", "abc", "99999999999999999999"])
def test_a_malformed_id_is_refused_as_bad_input_never_a_500(api, invoice_id):
    assert api.get(f"/api/v1/invoices/{invoice_id}/timeline").status_code in (404, 422)


def test_payments_with_their_allocations_in_a_fixed_number_of_queries(
    api, workspace, operator, django_assert_max_num_queries
):
    first = overdue_invoice(operator)
    pay(first, operator, amount="1000.00", key="part")
    second = overdue_invoice(operator, name="Other AB", email="ap@other.example")
    pay(second, operator, key="full")

    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/payments", {"limit": 10})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    latest = body["items"][0]
    assert latest["client_name"] == "Other AB"
    assert (latest["amount"], latest["allocated"], latest["unallocated"]) == ("1400.00", "1400.00", "0.00")
    assert latest["allocations"][0]["invoice_number"] == second.number
    assert latest["source"] == "email" and latest["bank_entry_id"] is None
    partial = body["items"][1]
    assert partial["allocations"] == [
        {
            "invoice_id": first.pk,
            "invoice_number": first.number,
            "amount": "1000.00",
            "created_at": partial["allocations"][0]["created_at"],
        }
    ]
    filtered = api.get("/api/v1/payments", {"client_id": first.client_id}).json()
    assert [item["id"] for item in filtered["items"]] == [partial["id"]]
    assert api.get("/api/v1/payments", {"source": "manual"}).json()["count"] == 0
    assert api.get("/api/v1/payments", {"source": "nonsense"}).status_code == 422


def test_bank_entries_unmatched_matched_and_all(api, workspace, operator, django_assert_max_num_queries):
    waiting, unknown, proposed = bank_entries(
        operator,
        [
            Credit("150.00", "J. Smith", "invoice 1 or 2", "ambiguous", AMBIGUOUS),
            Credit("80.00", "Hetzner Online GmbH", "refund", "none", {"kind": "none", "reasons": []}),
            Credit("1400.00", "Berg Bakery AB", "TS-2026-0003", "exact", {"kind": "exact"}),
        ],
    )
    # As the importer stores a matched credit whose payment it proposed (connectors.statements).
    BankEntry.objects.filter(pk=proposed.pk).update(status=BankEntry.Status.PROPOSED)

    with django_assert_max_num_queries(4):
        response = api.get("/api/v1/bank-entries")

    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [waiting.pk, unknown.pk]
    first = body["items"][0]
    assert first["candidates"] == [
        {"number": "TS-2026-0001", "invoice_id": None, "amount": None},
        {"number": "TS-2026-0002", "invoice_id": None, "amount": None},
    ]
    assert first["reasons"] == ["the amount fits two invoices of J. Smith"]
    assert (first["status"], first["match_kind"], first["payment_id"]) == ("open", "ambiguous", None)
    matched = api.get("/api/v1/bank-entries", {"state": "matched"}).json()
    assert [item["id"] for item in matched["items"]] == [proposed.pk]
    assert api.get("/api/v1/bank-entries", {"state": "all"}).json()["count"] == 3
    assert api.get("/api/v1/bank-entries", {"state": "open"}).status_code == 422
    # Reading proposes nothing and records nothing.
    assert BankEntry.objects.filter(status="open").count() == 2
    assert not Payment.objects.exists() and not PaymentAllocation.objects.exists()
