"""The intake workflow through the conductor, inline: each sample mail's route, the proposal with its
field diff, approval → one threaded reply from the operator and the proposal sent, change briefs, the
review queue, and injected mail filed with nothing committed."""

from __future__ import annotations

import email
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail as django_mail

from connectors.services import mail_ingest
from core import demo
from core.models import Client, Decision, Message, Note, Proposal
from ledger import approvals, services
from ledger.models import Action, OutboxEmail, Task
from tests.factories import ClientFactory, ContactFactory

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parent / "data" / "intake"
ROUTES = {
    "01-new-website.eml": "proposal",
    "02-logo-usd.eml": "proposal",
    "03-invoice-question.eml": "billing",
    "04-meeting.eml": "scheduling",
    "05-scope-change.eml": "change",
    "06-newsletter.eml": "filed",
    "07-shop-sek.eml": "proposal",
    "08-injection.eml": "filed",
    "09-payment-sent.eml": "payment",
    "10-rebrand-html.eml": "proposal",
}
KINDS = {
    "proposal": ["proposal.send"],
    "billing": ["email.send"],
    "scheduling": ["email.send"],
    "change": ["note.create"],
    # A payment notice waits for the operator to check it against the bank.
    "payment": ["intake.review"],
    "filed": [],
}
# No sample's sender is known to the workspace here: billing mail from a stranger gets no record data,
# only the operator's review (ADR 0013; tests/agents/test_client_scope.py has it from clients).
STRANGER_KINDS = KINDS | {"billing": ["intake.review"]}


@pytest.fixture
def studio(operator):
    demo.demo_studio_configure(by=operator)
    return operator


def run_mail(raw: bytes, capture) -> Task:
    """Ingest a mail (its intake task is submitted after the import commits) and run that task inline."""
    with capture(execute=True):
        inbound = mail_ingest(raw=raw, path="file", source="test")
    assert inbound.status == "imported", inbound.reason
    task = Task.objects.get(workflow="intake.process", input__message_id=inbound.message.pk)
    assert task.requested_by_kind == "connector"
    # The import parsed the raw mail: its parts are in the recorded input, for the reader.
    assert set(task.input["mail"]) == {
        "new_text",
        "quoted_text",
        "is_auto_reply",
        "is_bounce",
        "is_calendar",
        "is_image_only",
        "headers",
        "date",
    }
    services.task_execute(task_id=task.pk)
    task.refresh_from_db()
    return task


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_each_sample_takes_its_route_and_nothing_commits_alone(
    name, studio, django_capture_on_commit_callbacks
):
    task = run_mail(sample(name), django_capture_on_commit_callbacks)

    route = ROUTES[name]
    assert task.output["steps"]["route"]["route"] == route
    assert [action.kind for action in task.actions.all()] == STRANGER_KINDS[route]
    assert task.status == ("succeeded" if route == "filed" else "waiting_approval")
    assert not Action.objects.filter(task=task, status="committed").exists()
    assert not OutboxEmail.objects.exists()
    for action in task.actions.all():
        assert action.approval.status == "pending"
        assert action.source["untrusted"] is True
        for field in action.inferred:
            span = field.get("span")
            if span:
                start, end = span
                assert action.source["text"][start:end] == field["source"], field


def test_the_bakery_inquiry_becomes_a_priced_proposal_that_one_approval_sends(
    studio, django_capture_on_commit_callbacks
):
    task = run_mail(sample("01-new-website.eml"), django_capture_on_commit_callbacks)
    (action,) = task.actions.all()
    lines = {line["service_key"]: line for line in action.payload["lines"]}
    assert set(lines) == {"website", "copywriting"}
    assert (lines["website"]["quantity"], lines["copywriting"]["quantity"]) == ("6", "6")
    assert action.amount == Decimal("4980.00") and action.currency == "EUR"
    assert "within the stated budget 5000.00 EUR" in task.output["steps"]["estimate"]["budget_note"]
    fields = {field["field"]: field for field in action.inferred}
    assert fields["budget"]["value"] == {"amount": "5000.00", "currency": "EUR"}
    assert fields["deadline"]["value"] == "2027-02-15"
    assert action.payload["in_reply_to"] == "<a1f3@bergbakery.se>"
    assert action.approval.floors == ["new_recipient"]
    assert "Ask before untrusted input" in action.decision_reason

    approvals.approval_approve(approval=action.approval, by=studio)
    assert services.task_execute(task_id=task.pk) == "succeeded"

    (sent,) = django_mail.outbox
    assert sent.from_email == "Mara Lindqvist <mara@northwind.studio>"
    assert sent.to == ["jonas@bergbakery.se"]
    assert sent.subject == "Re: New website for our bakery"
    assert sent.extra_headers["In-Reply-To"] == "<a1f3@bergbakery.se>"
    assert "<a1f3@bergbakery.se>" in sent.extra_headers["References"]
    assert "Total: 4980.00 EUR" in sent.body
    action.refresh_from_db()
    proposal = Proposal.objects.get(pk=action.result["proposal"])
    assert (proposal.status, proposal.total, proposal.currency) == ("sent", Decimal("4980.00"), "EUR")
    assert (
        list(proposal.history.order_by("history_id").values_list("status", flat=True))
        == [
            "draft",
            "draft",
            "pending_approval",
            # Approved: its email waits in the outbox; "sent" once the SMTP server took it.
            "sending",
            "sent",
        ][-proposal.history.count() :]
    )
    client = proposal.client
    assert (client.name, client.status, client.email) == ("Berg Bakery AB", "lead", "jonas@bergbakery.se")
    assert client.contacts.get().name == "Jonas Berg"
    inbound = Message.objects.get(message_id="a1f3@bergbakery.se")
    outbound = Message.objects.get(direction="outbound")
    assert outbound.conversation_id == inbound.conversation_id
    assert outbound.in_reply_to == "<a1f3@bergbakery.se>"


def test_the_operator_changes_the_price_before_approving(studio, django_capture_on_commit_callbacks):
    task = run_mail(sample("02-logo-usd.eml"), django_capture_on_commit_callbacks)
    (action,) = task.actions.all()
    lines = [dict(line) for line in action.payload["lines"]]
    lines[0]["unit_price"] = "1100.00"

    approvals.approval_approve(approval=action.approval, by=studio, changes={"lines": lines})
    services.task_execute(task_id=task.pk)

    action.refresh_from_db()
    assert action.approval.edit_diff["lines"]["after"][0]["unit_price"] == "1100.00"
    proposal = Proposal.objects.get(pk=action.result["proposal"])
    assert proposal.total == Decimal("1100.00")


def test_an_existing_clients_inquiry_uses_the_client_and_a_change_becomes_a_brief(
    studio, django_capture_on_commit_callbacks
):
    client = ClientFactory(name="Vogt & Partner", email="office@vogt-partner.de")
    ContactFactory(client=client, name="Lena Vogt", email="lena.vogt@vogt-partner.de")
    task = run_mail(sample("05-scope-change.eml"), django_capture_on_commit_callbacks)
    (brief,) = task.actions.all()
    assert brief.kind == "note.create" and brief.payload["client_id"] == client.pk
    assert "careers page" in brief.payload["text"]
    assert "Change estimate:" in brief.payload["text"]

    approvals.approval_approve(approval=brief.approval, by=studio)
    assert services.task_execute(task_id=task.pk) == "succeeded"
    note = Note.objects.get()
    assert note.client == client and note.text == brief.payload["text"]
    assert Client.objects.count() == 1, "no lead is created for a known sender"


def test_an_inquiry_for_nothing_in_the_catalogue_goes_to_review_with_what_was_found(
    studio, django_capture_on_commit_callbacks
):
    raw = (
        b"From: Sam Doe <sam@doe-events.example>\r\nTo: mara@northwind.studio\r\n"
        b"Subject: Trade fair stand\r\nDate: Mon, 30 Nov 2026 10:00:00 +0100\r\n"
        b"Message-ID: <review-1@doe-events.example>\r\n\r\n"
        b"Hi Mara, could you quote for building a physical trade fair stand (carpentry and lighting) "
        b"for our company? Our budget is 3,000 EUR.\r\n\r\nSam Doe\r\nDoe Events GmbH\r\n"
    )
    task = run_mail(raw, django_capture_on_commit_callbacks)

    assert task.output["steps"]["route"]["route"] == "review"
    (review,) = task.actions.all()
    assert review.kind == "intake.review" and review.approval.status == "pending"
    assert review.payload["found"]["budget"] == {"amount": "3000.00", "currency": "EUR"}
    assert any("No service of the catalogue" in reason for reason in review.payload["reasons"])
    approvals.approval_approve(approval=review.approval, by=studio)
    assert services.task_execute(task_id=task.pk) == "succeeded"
    review.refresh_from_db()
    decision = Decision.objects.get(pk=review.result["decision"])
    assert decision.decided_by == studio
    assert decision.subject == Message.objects.get(message_id="review-1@doe-events.example")
    assert not OutboxEmail.objects.exists()


def test_the_injection_mail_is_filed_and_nothing_is_committed_or_sent(
    studio, django_capture_on_commit_callbacks
):
    before = {message.pk for message in Message.objects.all()}
    task = run_mail(sample("08-injection.eml"), django_capture_on_commit_callbacks)
    assert task.status == "succeeded"
    assert task.output["steps"]["extract"]["intent"] == "other"
    assert not task.actions.exists()
    assert not OutboxEmail.objects.exists() and django_mail.outbox == []
    assert Message.objects.exclude(pk__in=before).filter(direction="outbound").count() == 0
    header = email.message_from_bytes(sample("08-injection.eml"))["Message-ID"].strip("<>")
    assert Message.objects.filter(message_id=header).count() == 1


def test_the_approval_page_shows_the_proposal_and_the_operator_sets_the_price_there(
    studio, operator_client, django_capture_on_commit_callbacks
):
    task = run_mail(sample("01-new-website.eml"), django_capture_on_commit_callbacks)
    (action,) = task.actions.all()
    page = f"/approvals/{action.approval.pk}/"

    html = operator_client.get(page).content.decode()

    assert "<dt>From</dt><dd>Mara Lindqvist &lt;mara@northwind.studio&gt;</dd>" in html
    assert "Marketing website" in html and "4980.00 EUR" in html
    assert 'name="line-0-unit_price"' in html and 'name="line-1-quantity"' in html
    assert "<mark" in html  # the spans the intake read are highlighted in the mail

    form = {
        "to": "jonas@bergbakery.se",
        "cc": "",
        "subject": action.payload["subject"],
        "body": action.payload["body"].replace("\n", "\r\n"),
        "title": action.payload["title"],
        "line-0-quantity": "5",
        "line-0-unit_price": "650.00",
        "line-1-quantity": "6",
        "line-1-unit_price": "180.00",
    }
    response = operator_client.post(f"/approvals/{action.approval.pk}/edit", form)

    assert response.status_code == 302
    action.refresh_from_db()
    assert action.approval.status == "approved" and action.approval.edited is True
    assert set(action.approval.edit_diff) == {"lines"}, "an untouched body is not an edit"
    assert services.task_execute(task_id=task.pk) == "succeeded"
    proposal = Proposal.objects.get(pk=Action.objects.get(pk=action.pk).result["proposal"])
    assert proposal.total == Decimal("4330.00")  # 5 × 650 + 6 × 180

    bad = run_mail(sample("02-logo-usd.eml"), django_capture_on_commit_callbacks).actions.get()
    response = operator_client.post(
        f"/approvals/{bad.approval.pk}/edit", {"line-0-unit_price": "-5", "to": "priya.nair@gmail.com"}
    )
    bad.refresh_from_db()
    assert bad.approval.status == "pending" and bad.payload["lines"][0]["unit_price"] == "900.00"
