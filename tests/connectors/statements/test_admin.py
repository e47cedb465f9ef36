"""The statement upload and the operator's choice for a waiting credit, in the back office."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import Artifact, BankEntry, BankStatement, Invoice
from ledger import approvals, services
from ledger.models import ApprovalRequest, Task
from tests.connectors.statements.conftest import DATA

pytestmark = pytest.mark.django_db
UPLOAD = reverse("admin:core_bankstatement_add")


def upload(client, name, content=None, **extra):
    content = (DATA / name).read_bytes() if content is None else content
    return client.post(UPLOAD, {"file": SimpleUploadedFile(name, content), **extra})


def test_the_upload_imports_the_statement_and_proposes_payments(open_invoices, operator_client):
    assert operator_client.get(UPLOAD).status_code == 200
    response = upload(operator_client, "november.ofx")
    statement = BankStatement.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "admin:core_bankstatement_change", args=[statement.pk]
    )
    assert statement.entries.count() == 10
    assert Task.objects.filter(workflow="payment.propose").count() == 6
    page = operator_client.get(response.url)
    assert b"Hetzner Online GmbH" in page.content


def test_a_dry_run_upload_shows_the_matches_and_stores_nothing(open_invoices, operator_client):
    response = upload(operator_client, "november-de.csv", dry_run="on")
    assert response.status_code == 200
    assert b"NW-2026-0004, NW-2026-0005" in response.content and b"ambiguous" in response.content
    assert BankStatement.objects.count() == 0 and Artifact.objects.count() == 0


def test_a_bad_upload_names_the_fault_keeps_the_bytes_and_imports_nothing(open_invoices, operator_client):
    response = upload(operator_client, "bad.csv", content=b"Date,Amount\n2026-11-02,lots\n")
    assert response.status_code == 200
    assert b"line 2: cannot read the amount" in response.content
    assert Artifact.objects.get().file.read() == b"Date,Amount\n2026-11-02,lots\n"
    assert BankStatement.objects.count() == 0 and BankEntry.objects.count() == 0


def test_the_upload_is_for_staff_only(open_invoices, client):
    response = upload(client, "november.ofx")
    assert response.status_code == 302 and "/login" in response.url
    assert BankStatement.objects.count() == 0


def test_the_operator_names_the_invoice_of_an_ambiguous_credit_and_approves_it(
    open_invoices, operator, operator_client
):
    upload(operator_client, "november.camt053.xml")
    smith = BankEntry.objects.get(counterparty="J. Smith")
    assert smith.status == "open" and smith.match_kind == "ambiguous"
    page = operator_client.get(reverse("admin:core_bankentry_change", args=[smith.pk]))
    propose = reverse("admin:core_bankentry_propose", args=[smith.pk])
    assert propose.encode() in page.content

    refused = operator_client.post(propose, {"invoices": "NW-2026-0001, NW-2026-0009"})  # two clients
    assert refused.status_code == 200 and b"one client only" in refused.content
    response = operator_client.post(propose, {"invoices": "nw-2026-0009"})
    assert response.status_code == 302

    smith.refresh_from_db()
    assert smith.status == "proposed" and smith.match["invoices"] == ["NW-2026-0009"]
    task = Task.objects.filter(workflow="payment.propose", requested_by_user=operator).get()
    services.task_execute(task_id=task.pk)
    approval = ApprovalRequest.objects.get(task=task, status="pending")
    assert Invoice.objects.get(number="NW-2026-0009").status == "approved"  # not before approval
    approvals.approval_approve(approval=approval, by=operator)
    services.task_execute(task_id=task.pk)
    assert Invoice.objects.get(number="NW-2026-0009").status == "paid"
    smith.refresh_from_db()
    assert smith.status == "recorded" and smith.payment.payer_name == "J. Smith"
