"""Proposals and invoices through the JSON API: lines, money as decimal strings, state changes."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from core import services
from core.models import Invoice, InvoiceLine, Proposal, ProposalLine
from tests.factories import ClientFactory, InvoiceFactory, ProjectFactory, ProposalFactory

LINES = [
    {"description": "Design", "quantity": "3", "unit": "page", "unit_price": "650.00"},
    {"description": "Copy", "quantity": "2.5", "unit": "page", "unit_price": "180.00", "tax_rate": "25"},
]


@pytest.fixture
def api(operator):
    """An HTTP client carrying the operator's API token."""
    _, raw = services.api_token_create(user=operator, name="tests")
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


def post(api, path, data=None):
    return api.post(path, data if data is not None else {}, content_type="application/json")


def patch(api, path, data):
    return api.patch(path, data, content_type="application/json")


def error_fields(response) -> dict:
    """{location after "payload": message} of a 422 answer."""
    assert response.status_code == 422, response.content
    return {".".join(map(str, error["loc"][2:])): error["msg"] for error in response.json()["detail"]}


# --- Proposals -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_a_proposal_with_lines_and_money_as_strings(api, operator):
    client = ClientFactory(by=operator, default_currency="SEK")
    project = ProjectFactory(by=operator, client=client)

    response = post(
        api,
        "/api/v1/proposals",
        {
            "client_id": client.pk,
            "project_id": project.pk,
            "title": "Bakery website",
            "lines": LINES,
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["subtotal"], body["tax_total"], body["total"], body["currency"]) == (
        "2400.00",
        "112.50",
        "2512.50",
        "SEK",
    )
    lines = [(ln["description"], ln["quantity"], ln["amount"], ln["tax_amount"]) for ln in body["lines"]]
    assert lines == [("Design", "3.000", "1950.00", "0.00"), ("Copy", "2.500", "450.00", "112.50")]
    proposal = Proposal.objects.get(pk=body["id"])
    assert (proposal.project, proposal.total) == (project, Decimal("2512.50"))
    assert proposal.history.filter(history_type="+").get().history_user == operator
    assert {row.history_user for row in ProposalLine.history.all()} == {operator}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ({"quantity": "-1"}, "lines.1.quantity", "cannot be negative"),
        ({"unit_price": "-0.01"}, "lines.1.unit_price", "cannot be negative"),
        ({"quantity": "1e30"}, "lines.1.quantity", "no more than 12 digits"),
        ({"unit_price": "1.005"}, "lines.1.unit_price", "no more than 2 decimal places"),
        ({"tax_rate": "101"}, "lines.1.tax_rate", "percentage up to 100"),
        ({"quantity": "many"}, "lines.1.quantity", "valid decimal"),
        ({"quantity": "NaN"}, "lines.1.quantity", "finite number"),
        ({"description": "  "}, "lines.1.description", "needs a description"),
        ({"discount": "10"}, "lines.1.discount", "Extra inputs are not permitted"),
    ],
)
def test_a_bad_line_is_422_on_that_line_and_nothing_is_created(api, operator, line, field, message):
    client = ClientFactory(by=operator)

    fields = error_fields(
        post(
            api,
            "/api/v1/proposals",
            {"client_id": client.pk, "title": "Site", "lines": [LINES[0], {**LINES[1], **line}]},
        )
    )

    assert message in fields[field]
    assert not Proposal.objects.exists()
    assert not ProposalLine.objects.exists()


@pytest.mark.django_db
def test_proposal_links_must_exist_and_belong_to_the_client(api, operator):
    client = ClientFactory(by=operator)
    foreign_project = ProjectFactory(by=operator)

    assert (
        "another client"
        in error_fields(
            post(
                api,
                "/api/v1/proposals",
                {"client_id": client.pk, "project_id": foreign_project.pk, "title": "Site"},
            )
        )["project_id"]
    )
    assert (
        "no project with id"
        in error_fields(
            post(
                api,
                "/api/v1/proposals",
                {"client_id": client.pk, "project_id": foreign_project.pk + 100, "title": "Site"},
            )
        )["project_id"]
    )
    assert (
        "no client with id"
        in error_fields(post(api, "/api/v1/proposals", {"client_id": client.pk + 100, "title": "Site"}))[
            "client_id"
        ]
    )
    assert not Proposal.objects.exists()


@pytest.mark.django_db
def test_patch_a_draft_proposal_replaces_its_lines_then_send_it(api, operator):
    proposal = ProposalFactory(by=operator)

    updated = patch(
        api,
        f"/api/v1/proposals/{proposal.pk}",
        {"title": "Revised", "lines": [{"description": "Logo", "quantity": "1", "unit_price": "800"}]},
    )
    assert updated.status_code == 200
    assert (updated.json()["title"], updated.json()["total"]) == ("Revised", "800.00")
    assert list(proposal.lines.values_list("description", flat=True)) == ["Logo"]

    sent = post(api, f"/api/v1/proposals/{proposal.pk}/transition", {"to": "sent"})
    assert sent.status_code == 200
    assert sent.json()["status"] == "sent" and sent.json()["sent_at"] is not None
    proposal.refresh_from_db()
    assert proposal.status == "sent"
    assert proposal.history.first().history_user == operator


@pytest.mark.django_db
def test_a_sent_proposal_cannot_be_edited_or_moved_back(api, operator):
    proposal = ProposalFactory(by=operator)
    services.proposal_transition(proposal=proposal, to="sent", by=operator)

    edit = patch(api, f"/api/v1/proposals/{proposal.pk}", {"lines": []})
    assert edit.status_code == 422
    assert "only drafts can be edited" in edit.json()["detail"][0]["msg"]
    assert (
        "cannot become draft"
        in error_fields(post(api, f"/api/v1/proposals/{proposal.pk}/transition", {"to": "draft"}))["to"]
    )
    assert "to" in error_fields(post(api, f"/api/v1/proposals/{proposal.pk}/transition", {"to": "approved"}))
    proposal.refresh_from_db()
    assert (proposal.status, proposal.lines.count(), proposal.total) == ("sent", 2, Decimal("2512.50"))


@pytest.mark.django_db
def test_proposal_list_filters_and_unknown_ids(api, operator):
    berg = ClientFactory(by=operator)
    mine = ProposalFactory(by=operator, client=berg)
    sent = ProposalFactory(by=operator, client=berg)
    services.proposal_transition(proposal=sent, to="sent", by=operator)
    ProposalFactory(by=operator)

    drafts = api.get(f"/api/v1/proposals?client_id={berg.pk}&status=draft").json()
    assert [p["id"] for p in drafts["items"]] == [mine.pk]
    assert api.get("/api/v1/proposals").json()["count"] == 3
    assert api.get(f"/api/v1/proposals/{mine.pk}").json()["lines"][0]["amount"] == "1950.00"
    assert api.get(f"/api/v1/proposals/{mine.pk + 100}").status_code == 404
    assert post(api, f"/api/v1/proposals/{mine.pk + 100}/transition", {"to": "sent"}).status_code == 404


# --- Invoices ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_invoice_from_draft_to_paid(api, operator, workspace):
    client = ClientFactory(by=operator)

    created = post(api, "/api/v1/invoices", {"client_id": client.pk, "lines": LINES, "notes": "Thanks"})
    assert created.status_code == 201
    invoice_id = created.json()["id"]
    assert (created.json()["status"], created.json()["number"], created.json()["total"]) == (
        "draft",
        None,
        "2512.50",
    )

    issued = post(api, f"/api/v1/invoices/{invoice_id}/issue", {"issue_date": "2026-03-02"})
    assert issued.status_code == 200
    assert (issued.json()["number"], issued.json()["status"], issued.json()["due_date"]) == (
        "TS-2026-0001",
        "approved",
        "2026-04-01",
    )

    sent_at = "2026-03-02T09:30:00+01:00"
    sent = post(api, f"/api/v1/invoices/{invoice_id}/mark-sent", {"sent_at": sent_at})
    assert sent.json()["status"] == "sent"
    assert dt.datetime.fromisoformat(sent.json()["sent_at"]) == dt.datetime.fromisoformat(sent_at)

    paid = post(api, f"/api/v1/invoices/{invoice_id}/pay")
    assert paid.json()["status"] == "paid"
    invoice = Invoice.objects.get(pk=invoice_id)
    assert invoice.paid_at is not None and timezone.now() - invoice.paid_at < dt.timedelta(minutes=1)
    assert [row.history_user for row in invoice.history.all()] == [operator] * invoice.history.count()


@pytest.mark.django_db
def test_an_issued_invoice_cannot_change_its_lines(api, operator, workspace):
    invoice = InvoiceFactory(by=operator)
    services.invoice_issue(invoice=invoice, by=operator)
    invoice.refresh_from_db()
    lines_before = list(invoice.lines.values_list("description", "quantity", "unit_price", "amount"))

    response = patch(
        api,
        f"/api/v1/invoices/{invoice.pk}",
        {"lines": [{"description": "Cheaper", "quantity": "1", "unit_price": "1.00"}]},
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert "cannot change" in response.json()["detail"][0]["msg"]
    invoice.refresh_from_db()
    assert list(invoice.lines.values_list("description", "quantity", "unit_price", "amount")) == lines_before
    assert (invoice.status, invoice.total) == ("approved", Decimal("2512.50"))


@pytest.mark.django_db
def test_void_needs_a_reason_then_reissue_makes_a_linked_draft(api, operator, workspace):
    invoice = InvoiceFactory(by=operator)
    services.invoice_issue(invoice=invoice, by=operator)

    void = f"/api/v1/invoices/{invoice.pk}/void"
    assert "Say why" in error_fields(post(api, void, {"reason": "  "}))["reason"]
    assert "reason" in error_fields(post(api, void, {}))
    invoice.refresh_from_db()
    assert invoice.status == "approved"

    voided = post(api, void, {"reason": "Wrong client address"})
    assert (voided.json()["status"], voided.json()["void_reason"]) == ("void", "Wrong client address")

    reissued = post(api, f"/api/v1/invoices/{invoice.pk}/reissue")
    assert reissued.status_code == 201
    draft = Invoice.objects.get(pk=reissued.json()["id"])
    assert (draft.status, draft.replaces_id, draft.total) == ("draft", invoice.pk, Decimal("2512.50"))
    assert reissued.json()["replaces_id"] == invoice.pk
    again = post(api, f"/api/v1/invoices/{invoice.pk}/reissue")
    assert "already been re-issued" in error_fields(again)["status"]


@pytest.mark.django_db
def test_invoice_actions_refuse_bad_state_and_bad_input(api, operator, workspace):
    invoice = InvoiceFactory(by=operator)

    assert (
        "Issue the invoice" in error_fields(post(api, f"/api/v1/invoices/{invoice.pk}/mark-sent"))["status"]
    )
    assert "sent_at" in error_fields(
        post(api, f"/api/v1/invoices/{invoice.pk}/mark-sent", {"sent_at": "2026-03-02T09:30:00"})
    )  # no time zone
    assert "issue_date" in error_fields(
        post(api, f"/api/v1/invoices/{invoice.pk}/issue", {"issue_date": "yesterday"})
    )
    empty = InvoiceFactory(by=operator, lines=[])
    assert "at least one line" in error_fields(post(api, f"/api/v1/invoices/{empty.pk}/issue"))["lines"]
    assert post(api, f"/api/v1/invoices/{invoice.pk + 100}/issue").status_code == 404
    invoice.refresh_from_db()
    empty.refresh_from_db()
    assert (invoice.status, invoice.number, empty.status) == ("draft", None, "draft")


@pytest.mark.django_db
def test_bad_invoices_are_422_and_not_created(api, operator):
    client = ClientFactory(by=operator)
    other_proposal = ProposalFactory(by=operator)

    euro = post(api, "/api/v1/invoices", {"client_id": client.pk, "currency": "EURO", "lines": LINES})
    assert "not an ISO 4217 currency code" in error_fields(euro)["currency"]
    assert (
        "another client"
        in error_fields(
            post(api, "/api/v1/invoices", {"client_id": client.pk, "proposal_id": other_proposal.pk})
        )["proposal_id"]
    )
    assert "lines" in error_fields(post(api, "/api/v1/invoices", {"client_id": client.pk, "lines": None}))
    assert "client_id" in error_fields(post(api, "/api/v1/invoices", {"lines": LINES}))
    assert not Invoice.objects.exists()
    assert not InvoiceLine.objects.exists()


@pytest.mark.django_db
def test_invoice_list_filters(api, operator, workspace):
    berg = ClientFactory(by=operator)
    issued = InvoiceFactory(by=operator, client=berg)
    services.invoice_issue(invoice=issued, by=operator, issue_date=dt.date(2025, 12, 30))
    draft = InvoiceFactory(by=operator, client=berg)
    InvoiceFactory(by=operator)

    def ids(query):
        return [invoice["id"] for invoice in api.get(f"/api/v1/invoices?{query}").json()["items"]]

    assert ids(f"client_id={berg.pk}") == [draft.pk, issued.pk]
    assert ids(f"client_id={berg.pk}&status=draft") == [draft.pk]
    assert ids("year=2025") == [issued.pk]
    assert ids("year=2026") == []
    assert api.get("/api/v1/invoices?year=99999").status_code == 422
    assert api.get("/api/v1/invoices?status=unpaid").status_code == 422
    assert api.get(f"/api/v1/invoices/{issued.pk}").json()["number"] == "TS-2025-0001"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "factory"),
    [
        ("/api/v1/proposals", ProposalFactory),
        ("/api/v1/invoices", InvoiceFactory),
    ],
)
def test_list_queries_do_not_grow_with_rows_or_lines(api, operator, django_assert_num_queries, path, factory):
    # token + count + page + the page's lines
    for _ in range(3):
        factory(by=operator)
    api.get(path)  # the first request records the token's use; later ones within a minute do not
    with django_assert_num_queries(4):
        first = api.get(path).json()
    for _ in range(3):
        factory(by=operator, lines=LINES * 3)
    with django_assert_num_queries(4):
        second = api.get(path).json()

    assert (first["count"], second["count"]) == (3, 6)
    assert sum(len(item["lines"]) for item in second["items"]) == 3 * 2 + 3 * 6
