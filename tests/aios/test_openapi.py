"""The published OpenAPI document tells the truth: each model's enum has a name of its own, and real
answers of every read operation validate against the schema the document gives for them."""

import json
import re

import pytest
from django.test import Client as HttpClient
from jsonschema import Draft202012Validator

from core import services
from tests.factories import ClientFactory, ContactFactory, InvoiceFactory, ProjectFactory, ProposalFactory
from tests.ledger.approval_states import pending_approval
from tests.ledger.money.states import Credit, bank_entries
from tests.ledger.states import dead_letter, waiting_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(operator):
    _, raw = services.api_token_create(user=operator, name="schema check")
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def document(api):
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def enums(document) -> dict[str, list]:
    return {
        name: schema["enum"] for name, schema in document["components"]["schemas"].items() if "enum" in schema
    }


def test_each_models_status_has_its_own_enum(document):
    published = enums(document)
    assert "Status" not in published
    assert published["ClientStatus"] == ["lead", "active", "past"]
    assert published["ProjectStatus"][:2] == ["proposed", "active"]
    assert published["InvoiceStatus"] == ["draft", "approved", "sent", "paid", "overdue", "void"]
    assert "accepted" in published["ProposalStatus"] and "paid" not in published["ProposalStatus"]
    assert "waiting_approval" in published["TaskStatus"]
    assert published["ApprovalStatus"] == ["pending", "approved", "rejected", "expired", "cancelled"]
    assert published["ApprovalStatus"] != published["ActionStatus"]
    # No two names for the same thing and no name shared by two things: every enum is referenced by name.
    assert len(set(map(tuple, published.values()))) == len(published)


def test_filters_accept_the_values_the_published_enum_lists(api, document, operator):
    ClientFactory(status="active")
    for value in enums(document)["ClientStatus"]:
        assert api.get("/api/v1/clients", {"status": value}).status_code == 200
    assert api.get("/api/v1/clients", {"status": "approved"}).status_code == 422


def _validator(document, schema: dict) -> Draft202012Validator:
    # The operation's schema, resolving "#/components/..." references inside the whole document.
    return Draft202012Validator({**schema, "components": document["components"]})


def test_real_answers_validate_against_the_published_schema(api, document, operator, workspace):
    client = ClientFactory(status="active")
    contact = ContactFactory(client=client)
    project = ProjectFactory(client=client, status="active")
    proposal = ProposalFactory(client=client, project=project)
    services.proposal_transition(proposal=proposal, to="sent", by=operator)
    invoice = InvoiceFactory(client=client, project=project)
    services.invoice_issue(invoice=invoice, by=operator)
    voided = services.invoice_issue(invoice=InvoiceFactory(client=client), by=operator)
    services.invoice_void(invoice=voided, by=operator, reason="Issued twice by mistake.")
    InvoiceFactory(client=client)
    part_paid = services.invoice_issue(invoice=InvoiceFactory(client=client), by=operator)
    services.payment_record(
        client=client,
        amount="100.00",
        currency=part_paid.currency,
        received_on=part_paid.issue_date,
        by=operator,
        allocations=[{"invoice": part_paid, "amount": "50.00"}],
        reference="Part payment",
    )
    bank_entries(operator, [Credit("75.00", "J. Smith", "invoice?", "none", {"kind": "none", "reasons": []})])
    waiting = waiting_email(operator)
    dead_letter()
    approval = pending_approval()
    note = api.post(
        "/api/v1/notes",
        {"text": "Prefers invoices in SEK.", "client_id": client.pk},
        content_type="application/json",
    )
    assert note.status_code == 201, note.content
    ids = {
        "client_id": client.pk,
        "contact_id": contact.pk,
        "project_id": project.pk,
        "proposal_id": proposal.pk,
        "invoice_id": invoice.pk,
        "task_id": waiting.pk,
        "approval_id": approval.pk,
        "note_id": note.json()["id"],
    }
    queries = {"/api/v1/memory/search": {"query": "invoices"}}

    checked = []
    for path, operations in document["paths"].items():
        if "get" not in operations:
            continue
        # A credit note exists for a void invoice only: that path is read for the voided one.
        named = {**ids, "invoice_id": voided.pk} if "credit-note" in path else ids
        url = re.sub(r"\{(\w+)\}", lambda match: str(named[match.group(1)]), path)
        response = api.get(url, queries.get(path, {}))
        if path.endswith("/export"):
            # The zip of a client's data exists for an approved export task only (tests/core/
            # test_client_data.py downloads one); any other task answers the documented 404.
            assert response.status_code == 404 and "404" in operations["get"]["responses"], url
            continue
        assert response.status_code == 200, (url, response.content)
        documented = operations["get"]["responses"]["200"].get("content", {})
        if "application/json" not in documented:
            # A document (the invoice PDF): the answer is of a type the schema names, not JSON.
            assert response["Content-Type"].split(";")[0] in documented, (url, response["Content-Type"])
            continue
        content = documented["application/json"]["schema"]
        errors = sorted(_validator(document, content).iter_errors(response.json()), key=str)
        assert not errors, f"{url}: {[f'{list(e.absolute_path)}: {e.message}' for e in errors[:5]]}"
        checked.append(path)

    assert len(checked) >= 19
    money = {"/api/v1/invoices/{invoice_id}/timeline", "/api/v1/payments", "/api/v1/bank-entries"}
    assert money <= set(checked)
    # The lists carried the records made above (an empty page would prove little).
    assert api.get("/api/v1/invoices").json()["count"] == 4
    assert api.get("/api/v1/payments").json()["count"] == 1
    assert api.get("/api/v1/bank-entries").json()["count"] == 1
    assert {row["status"] for row in api.get("/api/v1/tasks").json()["items"]} >= {"waiting_approval", "dead"}


@pytest.mark.django_db
def test_the_document_has_no_key_twice(operator_client):
    """Swagger UI reads the document with a YAML parser, which refuses a key given twice in an object
    (as `200` and `"200"` once were): the docs page then shows nothing."""
    twice = []

    def pairs(items):
        keys = [key for key, _ in items]
        twice.extend(key for key in set(keys) if keys.count(key) > 1)
        return dict(items)

    json.loads(operator_client.get("/api/v1/openapi.json").content, object_pairs_hook=pairs)
    assert twice == []
