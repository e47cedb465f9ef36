"""A client's answer to a sent proposal, through the intake workflow inline: a yes accepts the proposal,
activates its project with a deliverable per line and drafts the first invoice (the workspace's 30 %
deposit, one line per tax rate), with a thank-you reply — after the operator's approval, never before; a
no declines it with the reason kept as a decision; and neither a stranger nor another client can answer
a client's proposal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail as django_mail

from connectors.services import mail_ingest
from core import demo
from core import services as core_services
from core.models import Decision, Invoice, Note, Project, Proposal
from ledger import approvals, services
from ledger.models import OutboxEmail, Task
from tests.factories import ClientFactory, ContactFactory

pytestmark = pytest.mark.django_db

BILLING = Path(__file__).resolve().parent / "data" / "billing"


@pytest.fixture
def studio(operator):
    demo.demo_studio_configure(by=operator)  # deposit 30 %, prefix NW
    return operator


def sent_proposal(*, by, client_name: str, email: str, person: str, title: str) -> Proposal:
    client = ClientFactory(name=client_name, email=email)
    ContactFactory(client=client, name=person, email=email, is_primary=True)
    proposal = core_services.proposal_send_record(
        client=client,
        by=by,
        title=title,
        currency="EUR",
        cover_letter="Here is my proposal.",
        lines=[
            {
                "description": "Marketing website",
                "quantity": "6",
                "unit": "page",
                "unit_price": "600.00",
                "tax_rate": "25",
            },
            {
                "description": "Copywriting",
                "quantity": "10",
                "unit": "hour",
                "unit_price": "90.00",
                "tax_rate": "25",
            },
            {
                "description": "Print-ready brochure",
                "quantity": "1",
                "unit": "piece",
                "unit_price": "400.00",
                "tax_rate": "12",
            },
        ],
    )
    # Its cover email was delivered: only then is a proposal sent (ADR 0014).
    return core_services.proposal_transition(proposal=proposal, to="sent", by=by)


def run_mail(raw: bytes, capture) -> Task:
    with capture(execute=True):
        inbound = mail_ingest(raw=raw, path="file", source="test")
    assert inbound.status == "imported", inbound.reason
    task = Task.objects.get(workflow="intake.process", input__message_id=inbound.message.pk)
    services.task_execute(task_id=task.pk)
    task.refresh_from_db()
    return task


def approve_all(task: Task, by) -> None:
    # Actions the policies let through alone (holding reminders) have no approval request.
    for action in task.actions.filter(status="proposed").order_by("pk"):
        approvals.approval_approve(approval=action.approval, by=by)
    assert services.task_execute(task_id=task.pk) == "succeeded"


def test_a_yes_accepts_the_proposal_activates_the_project_and_drafts_the_deposit_invoice(
    studio, django_capture_on_commit_callbacks
):
    proposal = sent_proposal(
        by=studio,
        client_name="Berg Bakery AB",
        email="jonas@bergbakery.se",
        person="Jonas Berg",
        title="Marketing website for Berg Bakery AB",
    )
    task = run_mail((BILLING / "b01-accept.eml").read_bytes(), django_capture_on_commit_callbacks)

    assert task.output["steps"]["route"]["route"] == "acceptance"
    accept, thanks = task.actions.order_by("pk")
    assert (accept.kind, thanks.kind) == ("proposal.accept", "email.send")
    assert accept.payload["proposal_id"] == proposal.pk
    assert "30 % deposit invoice drafted" in accept.summary
    # Nothing happens before the operator agrees.
    assert task.status == "waiting_approval"
    proposal.refresh_from_db()
    assert proposal.status == "sent"
    assert not Invoice.objects.exists() and not OutboxEmail.objects.exists()

    approve_all(task, studio)

    proposal.refresh_from_db()
    assert proposal.status == "accepted" and proposal.decided_at is not None
    project = proposal.project
    assert (project.status, project.name, project.budget) == ("active", proposal.title, proposal.total)
    deliverables = {d.title: d.estimate_hours for d in project.deliverables.all()}
    assert deliverables == {
        "Marketing website": None,
        "Copywriting": Decimal("10.00"),
        "Print-ready brochure": None,
    }
    invoice = Invoice.objects.get(proposal=proposal)
    assert (invoice.status, invoice.client_id, invoice.project_id) == (
        "draft",
        proposal.client_id,
        project.pk,
    )
    # 30 % of each tax rate's amount: 25 % on 4,500.00 and 12 % on 400.00.
    lines = sorted((line.tax_rate, line.unit_price) for line in invoice.lines.all())
    assert lines == [(Decimal("12.00"), Decimal("120.00")), (Decimal("25.00"), Decimal("1350.00"))]
    assert invoice.subtotal == Decimal("1470.00")
    assert invoice.tax_total == Decimal("14.40") + Decimal("337.50")
    assert "Deposit of 30 %" in invoice.notes
    assert "Let's go ahead" in Note.objects.get(project=project).text
    (sent,) = django_mail.outbox
    assert sent.to == ["jonas@bergbakery.se"]
    assert sent.extra_headers["In-Reply-To"] == "<b01-accept@billing-sample.example>"
    assert "30 % deposit invoice" in sent.body


def test_a_yes_with_a_change_keeps_the_change_as_a_note(studio, django_capture_on_commit_callbacks):
    proposal = sent_proposal(
        by=studio,
        client_name="Petit Vélo",
        email="chloe@petitvelo.fr",
        person="Chloé Petit",
        title="Brand identity for Petit Vélo",
    )
    task = run_mail((BILLING / "b02-accept-change.eml").read_bytes(), django_capture_on_commit_callbacks)

    approve_all(task, studio)

    proposal.refresh_from_db()
    assert proposal.status == "accepted"
    assert "January instead of December" in Note.objects.get(project=proposal.project).text


def test_a_no_declines_the_proposal_and_keeps_the_reason(studio, django_capture_on_commit_callbacks):
    proposal = sent_proposal(
        by=studio,
        client_name="Grant & Fern",
        email="oliver@grantandfern.co.uk",
        person="Oliver Grant",
        title="Landing page for Grant & Fern",
    )
    task = run_mail((BILLING / "b03-decline.eml").read_bytes(), django_capture_on_commit_callbacks)
    decline, reply = task.actions.order_by("pk")
    assert (decline.kind, reply.kind) == ("proposal.decline", "email.send")

    approve_all(task, studio)

    proposal.refresh_from_db()
    assert proposal.status == "declined"
    decision = Decision.objects.get(subject_id=proposal.pk)
    assert "go with an agency\ncloser to home" in decision.rationale
    assert not Invoice.objects.exists() and not Project.objects.exists()
    (sent,) = django_mail.outbox
    assert sent.to == ["oliver@grantandfern.co.uk"]


def test_a_stranger_or_another_client_cannot_accept_a_clients_proposal(
    studio, django_capture_on_commit_callbacks
):
    berg = sent_proposal(
        by=studio,
        client_name="Berg Bakery AB",
        email="jonas@bergbakery.se",
        person="Jonas Berg",
        title="Marketing website for Berg Bakery AB",
    )
    ClientFactory(name="Grant & Fern", email="oliver@grantandfern.co.uk")
    raw = (BILLING / "b01-accept.eml").read_bytes()
    stranger = raw.replace(b"Jonas Berg <jonas@bergbakery.se>", b"Jonas <jonas@berg-bakery.example>")
    other_client = raw.replace(b"Jonas Berg <jonas@bergbakery.se>", b"Oliver <oliver@grantandfern.co.uk>")

    for mail in (stranger, other_client):
        mail = mail.replace(b"<b01-accept@", b"<" + str(len(mail)).encode() + b"-accept@")
        task = run_mail(mail, django_capture_on_commit_callbacks)
        assert [action.kind for action in task.actions.all()] == ["intake.review"]
        named = dict(ids_named(task.actions.get().payload))
        # The review names no proposal and not Berg's client (ids compared as ids: "1" is in any text).
        assert not {key for key in named if key.startswith("proposal")}
        assert named.get("client_id") != berg.client_id

    berg.refresh_from_db()
    assert berg.status == "sent"
    assert not Invoice.objects.exists()


def ids_named(payload):
    """Every (key, value) of `payload`, however deep, whose key names a record (`proposal`, `client_id`)."""
    items = payload.items() if isinstance(payload, dict) else enumerate(payload)
    for key, value in items:
        if isinstance(value, dict | list):
            yield from ids_named(value)
        elif isinstance(key, str) and (key.endswith("_id") or key in ("proposal", "client", "invoice")):
            yield key, value


def issued_invoice(by, *, client, amount: str) -> Invoice:
    invoice = core_services.invoice_create(
        client=client,
        by=by,
        currency="USD",
        lines=[{"description": "Website", "quantity": "1", "unit_price": amount, "tax_rate": "0"}],
    )
    invoice = core_services.invoice_issue(invoice=invoice, by=by)
    return core_services.invoice_mark_sent(invoice=invoice, by=by)


def notice(sender: str, number: str, amount: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: mara@northwind.studio\r\nSubject: Payment sent\r\n"
        f"Date: Fri, 27 Nov 2026 10:00:00 +0100\r\nMessage-ID: <{number}-{len(sender)}@payer.example>\r\n\r\n"
        f"Hi Mara,\r\n\r\njust letting you know we transferred ${amount} for invoice {number} today.\r\n"
    ).encode()


def test_a_payment_notice_proposes_the_payment_against_the_senders_own_invoice(
    studio, django_capture_on_commit_callbacks
):
    kim = ClientFactory(name="Kim Family Dental", email="daniel@kimfamilydental.com", country="US")
    ContactFactory(client=kim, name="Daniel Kim", email="daniel@kimfamilydental.com", is_primary=True)
    invoice = issued_invoice(studio, client=kim, amount="2340.00")

    task = run_mail(
        notice("Daniel Kim <daniel@kimfamilydental.com>", invoice.number, "2,340.00"),
        django_capture_on_commit_callbacks,
    )

    assert task.output["steps"]["route"]["route"] == "payment"
    record = task.actions.get(kind="payment.record")
    assert record.payload["allocations"] == [
        {"invoice_id": invoice.pk, "number": invoice.number, "amount": "2340.00"}
    ]
    assert (record.payload["source"], record.payload["received_on"]) == ("email", "2026-11-27")
    # Money: it waits for the operator, however the mail is worded.
    assert record.approval.status == "pending"
    invoice.refresh_from_db()
    assert invoice.status == "sent"

    approve_all(task, studio)

    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_a_payment_notice_naming_another_clients_invoice_matches_and_reveals_nothing(
    studio, django_capture_on_commit_callbacks
):
    kim = ClientFactory(name="Kim Family Dental", email="daniel@kimfamilydental.com", country="US")
    ContactFactory(client=kim, name="Daniel Kim", email="daniel@kimfamilydental.com", is_primary=True)
    other = ClientFactory(name="Other Corp", email="ap@other.example", country="US")
    theirs = issued_invoice(studio, client=other, amount="9876.54")

    task = run_mail(
        notice("Daniel Kim <daniel@kimfamilydental.com>", theirs.number, "9,876.54"),
        django_capture_on_commit_callbacks,
    )

    assert [action.kind for action in task.actions.all()] == ["intake.review"]
    review = task.actions.get()
    assert "Other Corp" not in str(review.payload) and "Other Corp" not in review.summary
    theirs.refresh_from_db()
    assert (theirs.status, theirs.reminders_paused) == ("sent", False)
    assert not OutboxEmail.objects.exists()
