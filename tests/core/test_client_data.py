"""A client's data, handed back (`client.export`) or erased (`client.erase`), through the ledger.

Two clients are populated across every model that can hold client data — the helper walks every model
with a foreign-key path to `Client` and fails when one is left empty, so a new model must be populated
(and answered for by a part) before this passes. Every text of client A carries the marker ZEPHYRA and of
client B the marker ORCHIDB: the export of A must hold every row of A and no trace of B; after A's erase
no table and no file holds ZEPHYRA any more, A's issued invoice is exactly as issued, and B is untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
import zipfile
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail as django_mail
from django.db import connection
from django.db.models import Model
from django.urls import reverse

from agents.models import LLMCacheEntry
from connectors.models import InboundMail
from connectors.services import mail_ingest
from core import privacy, services
from core.models import Artifact, Client, Invoice, MemoryItem, MemoryRecall, Message
from core.privacy.parts import client_linked_models
from core.privacy.records import NOT_CLIENT_RECORDS
from ledger import approvals, policy
from ledger import services as ledger_services
from ledger.models import ApprovalRequest, LLMCall, OutboxEmail, Task

pytestmark = pytest.mark.django_db(transaction=True)

A, B = "ZEPHYRA", "ORCHIDB"


# --- The walk: every model with a foreign-key path to Client ---------------------------------------


def client_path(model: type[Model]) -> str:
    """The shortest lookup from `model` to its client's id, through foreign keys and one-to-ones."""
    if model is Client:
        return "pk"
    paths: dict[type[Model], str] = {Client: ""}
    frontier = [Client]
    while frontier:
        found = []
        # One level at a time: a model found in this round is not a step for another one of this round, or
        # which path a model gets would depend on the (hash) order of the models.
        known = dict(paths)
        for candidate in client_linked_models():
            if candidate in known:
                continue
            # A stored file (an Artifact: a PDF, a logo) is the client's only when it says so: a record's
            # own link to its client or its document (invoice, payment…) comes first.
            fields = sorted(candidate._meta.concrete_fields, key=lambda f: f.related_model is Artifact)
            for field in fields:
                if field.is_relation and field.related_model in known:
                    rest = known[field.related_model]
                    paths[candidate] = f"{field.name}__{rest}" if rest else field.name
                    found.append(candidate)
                    break
        frontier = found
    return paths[model]


def rows_of_client(model: type[Model], client: Client) -> set[int]:
    return set(model._default_manager.filter(**{client_path(model): client.pk}).values_list("pk", flat=True))


# --- Populating a client across every model ----------------------------------------------------------


def _mail(*, sender: str, marker: str, subject: str, attachment: bytes) -> bytes:
    message = EmailMessage()
    message["From"] = f"Person {marker} <{sender}>"
    message["To"] = "operator@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4()}@{marker.lower()}.example>"
    message["Date"] = "Mon, 01 Dec 2026 10:00:00 +0000"
    message.set_content(f"Hello, this is {marker} asking about the website. Budget 4000 EUR.\n")
    message.add_attachment(attachment, maintype="application", subtype="pdf", filename=f"brief-{marker}.pdf")
    return message.as_bytes()


def populate(marker: str, operator) -> Client:
    """One client with something in every table that can hold client data, each text carrying `marker`."""
    domain = f"{marker.lower()}.example"
    # Distinct valid IBANs per client (a known IBAN pays for one client only).
    iban = {A: "DE89370400440532013000"}.get(marker, "DE02120300000000202051")
    # The buyer name stays on an issued invoice, so it carries no marker: the test can then demand that
    # every marked text is gone after the erase.
    client = services.client_create(
        by=operator,
        name=f"Buyer {marker[:3].title()} Ltd",
        email=f"billing@{domain}",
        website=f"https://{domain}",
        notes=f"Prefers calls, {marker}",
        default_currency="EUR",
        # The billing address is printed on (and frozen with) the issued invoice: no marker either.
        country="DE",
        billing_street="Hauptstraße 1",
        billing_postcode="10115",
        billing_city="Berlin",
    )
    contact = services.contact_create(
        by=operator, client=client, name=f"Anna {marker}", email=f"anna@{domain}", phone="+49 30 1234"
    )
    services.contact_update(contact=contact, by=operator, role=f"Head of {marker}")
    project = services.project_create(by=operator, client=client, name="Website", description=f"For {marker}")
    services.deliverable_create(by=operator, project=project, title="Homepage", estimate_hours=Decimal("10"))
    document, _ = services.artifact_store(
        by=operator,
        content=f"Contract of {marker}".encode(),
        filename=f"contract-{marker}.pdf",
        client=client,
    )
    services.contract_create(
        by=operator, client=client, title="Services agreement", terms=f"Signed by {marker}", document=document
    )
    line = {"description": "Design", "quantity": "10", "unit_price": "100.00", "tax_rate": "19"}
    services.proposal_create(
        by=operator, client=client, title="Website proposal", cover_letter=f"Dear {marker}", lines=[line]
    )
    services.invoice_create(by=operator, client=client, notes=f"Draft for {marker}", lines=[line])
    issued = services.invoice_create(by=operator, client=client, lines=[line])
    services.invoice_issue(invoice=issued, by=operator, issue_date=dt.date(2026, 11, 2))
    # Its reminders were held for the client's question (the reason quotes them), then resumed.
    services.invoice_reminders_pause(invoice=issued, by=operator, reason=f"{marker} asked about it")
    services.invoice_reminders_resume(invoice=issued, by=operator)
    services.invoice_reminders_propose(
        due=[services.ReminderDue(issued.pk, client.pk, "friendly", 3)], task_ids={}
    )
    services.invoice_reminder_cancel(invoice=issued, level="friendly", note=f"{marker} said it was paid")
    # Paid by a transfer from an account of the marker's (recorded, and the account remembered); another
    # invoice issued and voided (its credit note stays with the books).
    services.payment_record(
        client=client,
        amount=issued.total,
        currency=issued.currency,
        received_on=dt.date(2026, 11, 20),
        by=operator,
        allocations=[services.AllocationData(invoice=issued, amount=issued.total)],
        payer_name=f"{marker} GmbH",
        payer_iban=iban,
    )
    services.payer_account_remember(client=client, iban=iban, name=f"{marker} GmbH", by=operator)
    voided = services.invoice_create(by=operator, client=client, lines=[line])
    services.invoice_issue(invoice=voided, by=operator, issue_date=dt.date(2026, 11, 3))
    services.invoice_void(invoice=voided, by=operator, reason="Issued twice")
    # Mail from the client's contact: the raw mail, a conversation and message with an attachment.
    inbound = mail_ingest(
        raw=_mail(
            sender=contact.email,
            marker=marker,
            subject=f"Website for {marker}",
            attachment=marker.encode() * 50,
        ),
        path="file",
        source=f"test-{marker}",
    )
    assert inbound.status == InboundMail.Status.IMPORTED
    message = inbound.message
    # Mail in review (never became a message) that names the client's address.
    review = mail_ingest(raw=f"From: anna@{domain}\r\n\r\n{marker} without headers".encode(), path="file")
    assert review.status == InboundMail.Status.REVIEW
    services.decision_record(
        by=operator, title=f"Quote {marker}", rationale=f"Because {marker}", client=client
    )
    services.note_create(by=operator, text=f"Remember {marker}", client=client, project=project)
    item = MemoryItem.objects.create(
        kind=MemoryItem.Kind.MESSAGE,
        text=f"{marker} wants a website",
        content_hash=hashlib.sha256(marker.encode()).hexdigest(),
        client=client,
        source=message,
    )
    # Work about the client: an email to them, approved and sent through the conductor.
    task = ledger_services.task_submit(
        workflow="email.send",
        input={"to": [contact.email], "subject": f"Re: {marker}", "body": f"Hello {marker}"},
        idempotency_key=f"reply-{marker}",
        requested_by=operator,
    )
    assert ledger_services.task_execute(task_id=task.pk) == "waiting-approval"
    approvals.approval_approve(approval=ApprovalRequest.objects.get(task=task), by=operator)
    assert ledger_services.task_execute(task_id=task.pk) == "succeeded"
    # A file went with it (as an invoice's PDF goes with the invoice email).
    OutboxEmail.objects.get(action__task=task).attachments.add(document)
    recall = MemoryRecall.objects.create(
        task=task,
        query=f"what does {marker} want",
        mode="recall",
        client=client,
        k=5,
        results=[{"item": item.pk, "text": item.text}],
    )
    recall.items.add(item)
    LLMCall.objects.create(
        task=task,
        model="test-model",
        tier="fast",
        prompt_hash=hashlib.sha256(f"p{marker}".encode()).hexdigest(),
        request={"messages": [{"role": "user", "content": f"Draft to {marker}"}]},
        response_text=f"Hi {marker}",
    )
    LLMCacheEntry.objects.create(
        key=hashlib.sha256(f"p{marker}".encode()).hexdigest(),
        model="test-model",
        schema="Draft",
        response_text=f"Hi {marker}",
    )
    return client


@pytest.fixture
def two_clients(workspace, operator, settings, tmp_path):
    # A data folder of this test's own: files left by other tests cannot hide or fake a trace.
    settings.DATA_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = settings.DATA_DIR / "media"
    a = populate(A, operator)
    b = populate(B, operator)
    return a, b


# --- Helpers: where a marker is ------------------------------------------------------------------


def tables_with(marker: str) -> dict[str, int]:
    """Every table of the database whose rows mention `marker` (any column, as text), with the count."""
    hits = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE %s', [f"%{marker}%"])
            count = cursor.fetchone()[0]
            if count:
                hits[table] = count
    raw = InboundMail.objects.all().values_list("raw", flat=True)
    raw_hits = sum(1 for data in raw if marker.encode() in bytes(data))
    if raw_hits:
        hits["connectors_inboundmail.raw"] = raw_hits
    return hits


def files_with(marker: str) -> list[str]:
    """Files of the (test's own) data folder whose name or content mentions `marker`."""
    data_dir = Path(settings.DATA_DIR)
    found = []
    for path in data_dir.rglob("*"):
        if not path.is_file():
            continue
        if marker in path.name or marker.encode() in path.read_bytes():
            found.append(str(path.relative_to(data_dir)))
    return found


def _run(operator, kind: str, client: Client) -> Task:
    """Ask for the export or erase as the operator does, run it, approve what it proposes, run it again."""
    task = ledger_services.task_submit(
        workflow=f"client.{kind}",
        input={"client_id": client.pk},
        idempotency_key=f"{kind}-{uuid.uuid4()}",
        requested_by=operator,
    )
    assert ledger_services.task_execute(task_id=task.pk) == "waiting-approval"
    approval = ApprovalRequest.objects.get(task=task)
    # A hard floor, even though the operator asked in person.
    assert approval.floors == [policy.FLOOR_PERSONAL]
    approvals.approval_approve(approval=approval, by=operator)
    assert ledger_services.task_execute(task_id=task.pk) == "succeeded"
    return task


def _zip_text(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return b"".join(archive.read(name) for name in archive.namelist())


def _export_contents(path: Path) -> dict[str, str]:
    """Every member's sha256, but the manifest (it holds the export's time and the member list)."""
    with zipfile.ZipFile(path) as archive:
        return {
            name: hashlib.sha256(archive.read(name)).hexdigest()
            for name in archive.namelist()
            if name != "manifest.json"
        }


# --- The tests --------------------------------------------------------------------------------------


def test_every_model_with_a_path_to_client_is_answered_for_and_populated(two_clients):
    a, b = two_clients
    linked = client_linked_models()
    assert linked - privacy.models_answered_for() == set(), "a model holds client data no part exports/erases"
    # The workspace's own records, reached from a client only through a stored file (the logo, a bank
    # statement's file), hold no row of the client's (core/privacy/records.py: NOT_CLIENT_RECORDS).
    not_client = set(NOT_CLIENT_RECORDS) | {
        m.history.model for m in NOT_CLIENT_RECORDS if hasattr(m, "history")
    }
    empty = sorted(model._meta.label for model in linked - not_client if not rows_of_client(model, a))
    assert empty == [], f"populate() leaves these client-data models empty: {empty}"
    assert {model._meta.label for model in linked} >= {
        "core.Contact",
        "core.Message",
        "core.HistoricalMessage",
        "core.MemoryItem",
        "connectors.InboundMail",
    }


def test_the_export_holds_every_row_and_file_about_the_client_and_nothing_of_another(two_clients, operator):
    a, b = two_clients
    task = _run(operator, "export", a)
    action = task.actions.get(kind="client.export")
    path = Path(action.result["path"])
    assert path.parent == privacy.client_exports_dir(client_id=a.pk)
    assert action.result["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()

    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
        exported: dict[str, set[int]] = {}
        for name in names:
            if name.endswith(".json") and name.split("/")[0] in ("records", "history", "work"):
                rows = json.loads(archive.read(name))
                for row in rows:
                    if isinstance(row, dict) and "model" in row:
                        exported.setdefault(row["model"], set()).add(row["pk"])
        raw_files = {name: archive.read(name) for name in names if name.startswith("files/mail/")}
        artifact_files = [name for name in names if name.startswith("files/artifacts/")]
    assert manifest["client"]["id"] == a.pk and manifest["format"] == "aios-client-export"
    # Every row of every client-data model that belongs to A is in the export.
    for model in client_linked_models():
        expected = rows_of_client(model, a)
        if model._meta.auto_created:
            continue  # many-to-many links: exported as (message, file) pairs
        assert expected <= exported.get(model._meta.label_lower, set()), model._meta.label
    # The raw mails as received, the stored files, the work about the client.
    imported = InboundMail.objects.filter(pk__in=rows_of_client(InboundMail, a))
    # Mail in review never became a message: it is found by the client's address in its bytes.
    review = [
        m for m in InboundMail.objects.filter(status=InboundMail.Status.REVIEW) if A.encode() in bytes(m.raw)
    ]
    assert len(imported) == 1 and len(review) == 1
    assert set(raw_files.values()) == {bytes(mail.raw) for mail in [*imported, *review]}
    assert review[0].pk in exported["connectors.inboundmail"]
    assert len(artifact_files) == 2  # the contract document and the mail's attachment
    reply = Task.objects.get(idempotency_key=f"reply-{A}")
    assert str(reply.pk) in {str(pk) for pk in exported["ledger.task"]}
    assert set(reply.events.values_list("pk", flat=True)) <= exported["ledger.taskevent"]
    assert (
        set(OutboxEmail.objects.filter(action__task=reply).values_list("pk", flat=True))
        <= exported["ledger.outboxemail"]
    )
    assert set(LLMCall.objects.filter(task=reply).values_list("pk", flat=True)) <= exported["ledger.llmcall"]
    # Nothing of the other client.
    text = _zip_text(path)
    assert A.encode() in text and B.encode() not in text
    assert not (
        {str(pk) for pk in exported["ledger.task"]}
        & {str(t) for t in Task.objects.filter(idempotency_key=f"reply-{B}").values_list("pk", flat=True)}
    )

    # The operator downloads it from the task page (staff only).
    from django.test import Client as Browser

    browser = Browser()
    browser.force_login(operator)
    response = browser.get(reverse("ledger:task_export", args=[task.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content) == path.read_bytes()


def test_erase_removes_the_clients_personal_data_everywhere_and_keeps_the_issued_invoice(
    two_clients, operator
):
    a, b = two_clients
    issued = Invoice.objects.get(client=a, status=Invoice.Status.PAID)
    issued_before = Invoice.objects.filter(pk=issued.pk).values().get()
    issued_lines = list(issued.lines.values())
    earlier_export = _run(operator, "export", a).actions.get(kind="client.export").result["path"]
    b_export_before = _export_contents(
        Path(_run(operator, "export", b).actions.get(kind="client.export").result["path"])
    )
    b_tables_before = tables_with(B)
    reply_a = Task.objects.get(idempotency_key=f"reply-{A}")
    queued = Task.objects.filter(
        workflow="memory.capture", input__source="core.proposal", status="queued"
    ).count()
    assert queued >= 1 and len(files_with(A)) == 3  # the contract, the mail's attachment, the export
    assert {
        "core_message",
        "core_historicalcontact",
        "ledger_outboxemail",
        "ledger_taskevent",
        "core_memoryitem",
        "connectors_inboundmail.raw",
    } <= set(tables_with(A))

    task = _run(operator, "erase", a)

    action = task.actions.get(kind="client.erase")
    assert action.decided_by == operator
    counts = action.result["counts"]
    assert (
        counts["core"]["contacts"] == 1
        and counts["core"]["messages"] == 1
        and counts["connectors"]["raw mails"] == 2
    )
    assert counts["ledger"]["tasks"] >= 2 and counts["ledger"]["cached LLM answers"] == 1
    # Not one trace of A's personal data in any table, nor in any file of the data folder.
    assert tables_with(A) == {}
    assert files_with(A) == []
    assert not Path(earlier_export).exists()
    # What the law requires stays exactly as issued: the invoice, its lines, its number, the payment and the
    # buyer name it carries.
    assert Invoice.objects.filter(pk=issued.pk).values().get() == issued_before
    assert list(issued.lines.values()) == issued_lines
    a.refresh_from_db()
    assert (
        a.name == "Buyer Zep Ltd" and a.email == a.website == a.notes == "" and a.status == Client.Status.PAST
    )
    assert a.projects.get().name == "Website" and a.projects.get().description == ""
    assert (
        not a.contacts.exists()
        and not a.conversations.exists()
        and not MemoryItem.objects.filter(client=a).exists()
    )
    # Unfinished work about A was cancelled, not left to run on erased input.
    assert not Task.objects.filter(input__client_id=a.pk, status="queued").exists()
    reply_a.refresh_from_db()
    assert reply_a.status == "succeeded" and reply_a.idempotency_key == f"erased:{reply_a.pk}"
    assert reply_a.events.filter(kind="succeeded").exists() and reply_a.input == {"erased": True}
    # The other client is exactly as it was.
    assert tables_with(B) == b_tables_before
    b_after = _run(operator, "export", b).actions.get(kind="client.export").result["path"]
    assert _export_contents(Path(b_after)) == b_export_before
    assert [m.subject for m in django_mail.outbox].count(f"Re: {B}") == 1


def test_erase_waits_for_the_operator_even_with_a_policy_that_allows_everything(two_clients, operator):
    a, _ = two_clients
    # Written past the editor (which refuses it): the floor holds at decision time regardless.
    from ledger.models import Policy

    Policy.objects.create(name="allow all", kind="approval", params={"effect": "commit"})
    with pytest.raises(Exception, match="hard floor: client.erase cannot commit without the operator"):
        policy.policy_save(
            by=operator,
            name="let erase go",
            kind="approval",
            params={"effect": "commit", "action_kinds": ["client.erase"]},
        )
    task = ledger_services.task_submit(
        workflow="client.erase",
        input={"client_id": a.pk},
        idempotency_key="erase-floor",
        requested_by=operator,
    )
    assert ledger_services.task_execute(task_id=task.pk) == "waiting-approval"
    action = task.actions.get()
    assert action.decision == "ask" and "personal data always needs the operator" in action.decision_reason
    # Nothing was erased while it waits; rejecting it leaves everything in place.
    approvals.approval_reject(
        approval=ApprovalRequest.objects.get(task=task), by=operator, reason="not asked by client"
    )
    assert ledger_services.task_execute(task_id=task.pk) == "succeeded"
    assert "core_message" in tables_with(A) and a.contacts.exists()
    a.refresh_from_db()
    assert a.email == f"billing@{A.lower()}.example"


def test_the_operator_asks_from_the_client_list_and_the_api_and_nothing_happens_before_approval(
    two_clients, operator, operator_client
):
    a, b = two_clients
    response = operator_client.post(
        reverse("admin:core_client_changelist"),
        {"action": "client_data_erase", "_selected_action": [a.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "Erasure asked for; approve it in the approval queue" in response.content.decode()
    erase = Task.objects.get(workflow="client.erase", input__client_id=a.pk)
    api = operator_client.post(f"/api/v1/clients/{b.pk}/export")
    assert api.status_code == 202 and api.json()["workflow"] == "client.export"
    # Asking again gives the same unfinished task.
    assert operator_client.post(f"/api/v1/clients/{b.pk}/export").json()["id"] == api.json()["id"]
    assert operator_client.post(f"/api/v1/clients/{a.pk}/erase").json()["id"] == str(erase.pk)
    assert erase.status == "queued" and not erase.actions.exists()
    assert a.contacts.exists() and b.contacts.exists()
    assert operator_client.get(f"/api/v1/tasks/{api.json()['id']}/export").status_code == 404
    assert operator_client.post("/api/v1/clients/999999/erase").status_code == 404


def test_anonymous_and_non_staff_users_cannot_ask(client, two_clients):
    a, _ = two_clients
    assert client.post(f"/api/v1/clients/{a.pk}/erase").status_code == 401
    assert not Task.objects.filter(workflow="client.erase").exists()


def test_a_file_both_clients_sent_stays_for_the_other_client(two_clients, operator):
    a, b = two_clients
    same = b"%PDF shared brochure" * 20
    for client, marker in ((a, A), (b, B)):
        raw = _mail(
            sender=client.contacts.get().email, marker=marker, subject=f"Brochure {marker}", attachment=same
        )
        assert mail_ingest(raw=raw, path="file").status == InboundMail.Status.IMPORTED
    shared = Message.objects.get(subject=f"Brochure {B}").attachments.get(
        sha256=hashlib.sha256(same).hexdigest()
    )
    assert Message.objects.get(subject=f"Brochure {A}").attachments.filter(pk=shared.pk).exists()

    _run(operator, "erase", a)

    shared.refresh_from_db()
    assert Message.objects.get(subject=f"Brochure {B}").attachments.filter(pk=shared.pk).exists()
    assert Path(shared.file.path).read_bytes() == same
    assert not Message.objects.filter(subject=f"Brochure {A}").exists()


def test_an_edit_on_the_approval_page_cannot_point_the_erase_at_another_client(two_clients, operator):
    a, b = two_clients
    task = ledger_services.task_submit(
        workflow="client.erase",
        input={"client_id": a.pk},
        idempotency_key="erase-edit",
        requested_by=operator,
    )
    assert ledger_services.task_execute(task_id=task.pk) == "waiting-approval"
    approvals.approval_approve(
        approval=ApprovalRequest.objects.get(task=task), by=operator, changes={"client_id": b.pk}
    )
    assert ledger_services.task_execute(task_id=task.pk) == "failed"
    task.refresh_from_db()
    assert "The request was about another client" in task.last_error
    assert a.contacts.exists() and b.contacts.exists()
    assert "core_message" in tables_with(A) and "core_message" in tables_with(B)
