"""Sending an invoice (issue item 4): one `invoice.send` task per ask, an email in the client's thread with
the invoice's PDF/A-3 attached, after the operator agreed — a draft is numbered only then — and the invoice
"sent" once the mail server took it. Asked by an accepted proposal for its first invoice, by the API, by
the phone; never to another client's people."""

from __future__ import annotations

import io

import pytest
from django.core import mail as django_mail
from django.test import Client
from pypdf import PdfReader

from core import demo
from core import services as core_services
from core.models import Invoice
from ledger import approvals, services
from ledger.models import Action, OutboxEmail, Task
from tests.agents.test_proposal_answers import BILLING, approve_all, run_mail, sent_proposal
from tests.factories import ClientFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def studio(operator):
    demo.demo_studio_configure(by=operator)  # deposit 30 %, prefix NW, business details
    return operator


def _accepted(studio, capture) -> tuple[Task, Invoice]:
    sent_proposal(
        by=studio,
        client_name="Berg Bakery AB",
        email="jonas@bergbakery.se",
        person="Jonas Berg",
        title="Marketing website for Berg Bakery AB",
    )
    intake = run_mail((BILLING / "b01-accept.eml").read_bytes(), capture)
    with capture(execute=False):
        approve_all(intake, studio)
    django_mail.outbox.clear()  # the thank-you reply
    follow_up = Task.objects.get(workflow="invoice.send")
    return follow_up, Invoice.objects.get()


def test_an_accepted_proposal_asks_to_send_its_first_invoice_which_leaves_only_after_approval(
    studio, django_capture_on_commit_callbacks
):
    task, invoice = _accepted(studio, django_capture_on_commit_callbacks)
    assert task.parent.workflow == "intake.process"
    assert task.input == {"client_id": invoice.client_id, "invoice_id": invoice.pk}

    assert services.task_execute(task_id=task.pk) == "waiting-approval"
    action = Action.objects.get(task=task)
    assert action.kind == "invoice.send" and action.status == "proposed"
    assert action.summary.startswith("Issue and send invoice NW-2026-0001")
    assert action.payload["to"] == ["jonas@bergbakery.se"]
    # In the thread: after the thank-you reply, which answered the client's yes.
    thanks = OutboxEmail.objects.get(action__task=task.parent)
    assert action.payload["in_reply_to"] == thanks.message_id
    assert "<b01-accept@billing-sample.example>" in action.payload["references"]
    # Nothing is numbered or sent before the operator agrees.
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.document) == ("draft", None, None)
    assert django_mail.outbox == []

    approvals.approval_approve(approval=action.approval, by=studio)
    assert services.task_execute(task_id=task.pk) == "succeeded"

    invoice.refresh_from_db()
    assert invoice.number == "NW-2026-0001" and invoice.status == "sent" and invoice.sent_at is not None
    (sent,) = django_mail.outbox
    assert sent.to == ["jonas@bergbakery.se"]
    assert sent.subject == "Invoice NW-2026-0001: Marketing website for Berg Bakery AB"
    assert "NW-2026-0001" in sent.body and f"{invoice.total} EUR" in sent.body
    assert sent.extra_headers["In-Reply-To"] == thanks.message_id
    ((filename, content, mime),) = sent.attachments
    assert (filename, mime) == ("invoice-NW-2026-0001.pdf", "application/pdf")
    with invoice.document.file.open("rb") as stored:
        assert content == stored.read()  # the frozen document, byte for byte
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "NW-2026-0001" in text and "Berg Bakery AB" in text
    email = OutboxEmail.objects.get(action=action)
    assert list(email.attachments.values_list("pk", flat=True)) == [invoice.document_id]


def test_the_email_quotes_the_number_the_invoice_really_got(studio, django_capture_on_commit_callbacks):
    task, invoice = _accepted(studio, django_capture_on_commit_callbacks)
    services.task_execute(task_id=task.pk)
    action = Action.objects.get(task=task)
    assert "NW-2026-0001" in action.payload["body"]
    # Another invoice is issued while this one waits for the operator: it takes number 1.
    other = core_services.invoice_create(
        by=studio,
        client=invoice.client,
        currency="EUR",
        lines=[{"description": "Hosting", "quantity": "1", "unit_price": "100.00", "tax_rate": "25"}],
    )
    core_services.invoice_issue(invoice=other, by=studio)

    approvals.approval_approve(approval=action.approval, by=studio)
    services.task_execute(task_id=task.pk)

    invoice.refresh_from_db()
    assert invoice.number == "NW-2026-0002"
    (sent,) = django_mail.outbox
    assert "NW-2026-0002" in sent.subject and "NW-2026-0002" in sent.body
    assert "NW-2026-0001" not in sent.subject + sent.body


def test_asking_twice_gives_the_same_task_and_a_void_invoice_is_not_sent(
    studio, django_capture_on_commit_callbacks
):
    task, invoice = _accepted(studio, django_capture_on_commit_callbacks)
    assert services.invoice_send_request(invoice=invoice, requested_by=studio) == task
    core_services.invoice_issue(invoice=invoice, by=studio)
    core_services.invoice_void(invoice=invoice, by=studio, reason="Wrong amount")
    with pytest.raises(Exception, match="void"):
        services.invoice_send_request(invoice=invoice, requested_by=studio)
    # The task asked before the void proposes nothing: the writer refuses a void invoice.
    assert services.task_execute(task_id=task.pk) != "waiting-approval"
    assert not Action.objects.filter(kind="invoice.send").exists()
    assert django_mail.outbox == []


def test_an_invoice_is_never_sent_to_another_clients_people(studio, django_capture_on_commit_callbacks):
    task, invoice = _accepted(studio, django_capture_on_commit_callbacks)
    other = ClientFactory(name="Grant & Fern", email="office@grantandfern.co.uk")
    ContactFactory(client=other, name="Oliver Grant", email="oliver@grantandfern.co.uk")
    services.task_execute(task_id=task.pk)
    action = Action.objects.get(task=task)
    # The operator's edit (a slip of the address book) names the other client's contact.
    approvals.approval_approve(
        approval=action.approval, by=studio, changes={"to": ["oliver@grantandfern.co.uk"]}
    )
    services.task_execute(task_id=task.pk)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("draft", None)
    assert django_mail.outbox == []
    assert not OutboxEmail.objects.filter(action__task=task).exists()
    task.refresh_from_db()
    assert task.status == "dead" and "belongs to another client" in task.last_error


def test_the_api_asks_through_the_ledger_and_answers_202_with_the_task(
    studio, operator_client, django_capture_on_commit_callbacks
):
    client = ClientFactory(name="Berg Bakery AB", email="jonas@bergbakery.se")
    invoice = core_services.invoice_create(
        by=studio,
        client=client,
        currency="EUR",
        lines=[{"description": "Hosting", "quantity": "1", "unit_price": "100.00", "tax_rate": "25"}],
    )
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(f"/api/v1/invoices/{invoice.pk}/send")
        again = operator_client.post(f"/api/v1/invoices/{invoice.pk}/send")
    assert response.status_code == 202, response.content
    assert response.json()["workflow"] == "invoice.send"
    assert again.json()["id"] == response.json()["id"]
    assert Task.objects.filter(workflow="invoice.send").count() == 1
    invoice.refresh_from_db()
    assert invoice.status == "draft" and django_mail.outbox == []
    assert operator_client.post("/api/v1/invoices/999999/send").status_code == 404
    # A void invoice is refused with the reason, and nothing is asked.
    core_services.invoice_issue(invoice=invoice, by=studio)
    core_services.invoice_void(invoice=invoice, by=studio, reason="Wrong client")
    refused = operator_client.post(f"/api/v1/invoices/{invoice.pk}/send")
    assert refused.status_code == 422 and "void" in refused.content.decode()
    assert Task.objects.count() == 1


def test_the_approval_shows_the_invoices_first_page_and_its_xml_fields(
    studio, operator_client, django_user_model, django_capture_on_commit_callbacks
):
    task, invoice = _accepted(studio, django_capture_on_commit_callbacks)
    services.task_execute(task_id=task.pk)
    approval = Action.objects.get(task=task).approval

    page = operator_client.get(f"/approvals/{approval.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Invoice NW-2026-0001" in html and "numbered when you approve" in html
    fields = {field.label: field.value for field in page.context["effect"]["invoice"]["xml"]}
    assert fields["Profile"] == "urn:cen.eu:en16931:2017"
    assert fields["Buyer"] == "Berg Bakery AB"
    assert fields["Amount due"] == str(invoice.total)
    assert fields["IBAN"] == studio_iban()
    assert "draft-invoice-" in html  # the attachment's name on the email

    image = operator_client.get(f"/approvals/{approval.pk}/invoice.png")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    from PIL import Image

    picture = Image.open(io.BytesIO(image.content))
    assert picture.width == 900 and picture.height > picture.width  # a portrait A4 page
    # Not blank: the page has ink on it.
    assert picture.convert("L").getextrema()[0] < 100

    # Staff only; another kind of approval has no invoice page.
    clerk = django_user_model.objects.create_user(username="clerk", email="clerk@x.example", password="pw")
    other = Client()
    other.force_login(clerk)
    assert other.get(f"/approvals/{approval.pk}/invoice.png").status_code == 403
    thanks_approval = Action.objects.get(task=task.parent, kind="email.send").approval
    assert operator_client.get(f"/approvals/{thanks_approval.pk}/invoice.png").status_code == 404


def studio_iban() -> str:
    from core.models import Workspace

    return Workspace.objects.get(pk=1).iban


def test_the_invoice_admin_asks_through_the_ledger(
    studio, operator_client, django_capture_on_commit_callbacks
):
    client = ClientFactory(name="Berg Bakery AB", email="jonas@bergbakery.se")
    invoice = core_services.invoice_create(
        by=studio,
        client=client,
        currency="EUR",
        lines=[{"description": "Hosting", "quantity": "1", "unit_price": "100.00", "tax_rate": "25"}],
    )
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(
            "/admin/core/invoice/",
            {"action": "send_by_email", "_selected_action": [invoice.pk]},
            follow=True,
        )
    assert response.status_code == 200
    task = Task.objects.get(workflow="invoice.send")
    assert task.input == {"client_id": client.pk, "invoice_id": invoice.pk}
    assert task.requested_by_user == studio
    assert "approve it in the approval queue" in response.content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "draft" and django_mail.outbox == []


def test_the_sender_never_writes_about_another_clients_invoice(studio, django_capture_on_commit_callbacks):
    berg = ClientFactory(name="Berg Bakery AB", email="jonas@bergbakery.se")
    grant = ClientFactory(name="Grant & Fern", email="oliver@grantandfern.co.uk")
    theirs = core_services.invoice_create(
        by=studio,
        client=grant,
        currency="EUR",
        lines=[{"description": "Secret launch", "quantity": "1", "unit_price": "999.00", "tax_rate": "25"}],
    )
    with django_capture_on_commit_callbacks(execute=False):
        # A task in Berg's scope that names Grant & Fern's invoice (a forged or mistaken input).
        task = services.task_submit(
            workflow="invoice.send",
            input={"client_id": berg.pk, "invoice_id": theirs.pk},
            idempotency_key="cross-client",
            requested_by=studio,
        )
    services.task_execute(task_id=task.pk)

    task.refresh_from_db()
    assert task.status == "dead" and "is not this client's" in task.last_error
    assert not Action.objects.filter(task=task).exists()
    assert "Secret launch" not in str(task.output) + task.last_error
    theirs.refresh_from_db()
    assert theirs.status == "draft" and django_mail.outbox == []
