"""schemathesis against the live API (a real server thread on loopback, the real database) with a staff
API token: every operation of the published OpenAPI document gets generated requests, half of them aimed
at real records, and no answer may be a server error, have a status or content type the document does not
list, or break the schema the document gives for its status. Bounded (AIOS_FUZZ_EXAMPLES per operation,
default 10) so the run stays under a minute on an idle machine."""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from aios.api import api as workspace_api
from core import services
from tests.conftest import BUSINESS_DETAILS
from tests.factories import (
    ClientFactory,
    ContactFactory,
    InvoiceFactory,
    OperatorFactory,
    ProjectFactory,
    ProposalFactory,
)
from tests.ledger.approval_states import pending_approvals
from tests.ledger.money.states import Credit, bank_entries
from tests.ledger.states import waiting_email

EXAMPLES = int(os.environ.get("AIOS_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def records(transactional_db):
    """A staff token and real records of every kind, so generated requests also reach existing rows."""
    operator = OperatorFactory()
    _, token = services.api_token_create(user=operator, name="fuzz")
    services.workspace_configure(
        by=operator,
        name="Fuzz Studio",
        operator_name="Fuzz Operator",
        operator_email="operator@example.com",
        invoice_prefix="FZ",
        default_currency="EUR",
        payment_terms_days=30,
        **BUSINESS_DETAILS,
    )
    client = ClientFactory(status="active")
    project = ProjectFactory(client=client, status="active")
    issued = InvoiceFactory(client=client, project=project)
    services.invoice_issue(invoice=issued, by=operator)
    issued.refresh_from_db()
    # A payment and a waiting bank credit, so the money lists answer with real rows.
    services.payment_record(
        client=client,
        amount="10.00",
        currency=issued.currency,
        received_on=issued.issue_date,
        by=operator,
        allocations=[{"invoice": issued, "amount": "10.00"}],
    )
    bank_entries(operator, [Credit("75.00", "J. Smith", "invoice?", "none", {"kind": "none", "reasons": []})])
    approvals = pending_approvals(2)
    ids = {
        "client_id": [client.pk],
        "contact_id": [ContactFactory(client=client).pk],
        "project_id": [project.pk],
        "proposal_id": [ProposalFactory(client=client, project=project).pk],
        "invoice_id": [issued.pk, InvoiceFactory(client=client).pk],
        "task_id": [waiting_email(operator).pk, approvals[0].task_id],
        "action_id": [approvals[0].action_id],
        "approval_id": [approval.pk for approval in approvals],
        "note_id": [services.note_create(by=operator, text="Prefers SEK.", client=client).pk],
    }
    return token, ids


def test_the_live_api_answers_every_generated_request_within_its_schema(live_server, records):
    token, ids = records
    schema = schemathesis.openapi.from_dict(workspace_api.get_openapi_schema())
    headers = {"Authorization": f"Bearer {token}"}
    # The first memory search loads the local embedding model; later ones take milliseconds.
    warm = requests.get(f"{live_server.url}/api/v1/memory/search?query=warm", headers=headers, timeout=120)
    assert warm.status_code == 200
    failures: dict[str, list[str]] = {}
    calls = 0

    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if operation.path.endswith("/inbound/email"):
            continue  # signed by HMAC, not a token: tests/connectors/test_webhook*.py fuzz nothing there

        @given(case=operation.as_strategy(), real=st.booleans(), pick=st.integers(min_value=0, max_value=7))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case, real, pick):
            nonlocal calls
            if real and case.path_parameters:
                for name in case.path_parameters:
                    if name in ids:
                        case.path_parameters[name] = ids[name][pick % len(ids[name])]
            response = case.call(base_url=live_server.url, headers=headers, timeout=30)
            calls += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as group:
                for failure in group.exceptions:
                    problem = (
                        f"{response.status_code} {case.path_parameters} {failure.title}: {failure.message}"
                    )
                    failures.setdefault(label, []).append(problem[:400])

        check()

    assert calls >= EXAMPLES * 30
    assert failures == {}, "\n".join(f"{label}: {problems[:3]}" for label, problems in failures.items())


def test_the_fuzzer_would_see_a_schema_violation(live_server, records):
    """The same checks against a document that lies about one answer: the violation is reported."""
    token, ids = records
    document = workspace_api.get_openapi_schema()
    document["components"]["schemas"]["ClientOut"]["properties"]["name"] = {"type": "integer"}
    schema = schemathesis.openapi.from_dict(document)
    operation = schema["/api/v1/clients/{client_id}"]["GET"]
    case = operation.Case(path_parameters={"client_id": ids["client_id"][0]})

    response = case.call(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    with pytest.raises(FailureGroup) as raised:
        case.validate_response(response, checks=CHECKS)
    assert any(
        "name" in failure.message or "integer" in failure.message for failure in raised.value.exceptions
    )
