"""Clients, contacts, projects, proposals, messages: normalisation, invariants and history."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core import services
from core.models import Client, Contact, Conversation, Message, Project, Proposal
from tests.factories import ClientFactory, ContactFactory, ProposalFactory, UserFactory


@pytest.mark.django_db
def test_emails_are_normalised_everywhere(operator):
    client = services.client_create(by=operator, name="Berg Bakery AB", email="  Billing@BergBakery.SE ")
    contact = services.contact_create(
        client=client, by=operator, name="Jonas Berg", email="Jonas@BergBakery.se"
    )
    assert client.email == "billing@bergbakery.se"
    assert contact.email == "jonas@bergbakery.se"


@pytest.mark.django_db
def test_invalid_and_duplicate_contact_emails_are_refused(operator):
    client = ClientFactory(by=operator)
    services.contact_create(client=client, by=operator, name="A", email="a@example.com")
    with pytest.raises(ValidationError) as caught:
        services.contact_create(client=client, by=operator, name="B", email="A@Example.COM")
    assert "already a contact" in caught.value.message_dict["email"][0]
    with pytest.raises(ValidationError) as caught:
        services.contact_create(client=client, by=operator, name="C", email="not an address")
    assert "email" in caught.value.message_dict
    assert list(Contact.objects.values_list("email", flat=True)) == ["a@example.com"]


@pytest.mark.django_db
def test_the_database_refuses_unnormalised_emails(operator):
    contact = ContactFactory(by=operator)
    with pytest.raises(IntegrityError), transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(email="Upper@Example.com")
    contact.refresh_from_db()
    assert contact.email.islower()


@pytest.mark.django_db
def test_one_primary_contact_per_client(operator):
    client = ClientFactory(by=operator)
    first = services.contact_create(client=client, by=operator, name="A", email="a@x.se", is_primary=True)
    second = services.contact_create(client=client, by=operator, name="B", email="b@x.se", is_primary=True)
    first.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)
    assert first.history.first().history_user == operator


@pytest.mark.django_db
def test_project_budget_cannot_be_negative_and_dates_must_be_ordered(operator):
    client = ClientFactory(by=operator)
    with pytest.raises(ValidationError) as caught:
        services.project_create(client=client, by=operator, name="Site", budget="-1")
    assert "budget" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        services.project_create(
            client=client, by=operator, name="Site", start_date="2026-05-01", due_date="2026-04-01"
        )
    assert "due_date" in caught.value.message_dict
    assert not Project.objects.exists()
    project = services.project_create(client=client, by=operator, name="Site", budget="5000")
    assert project.budget == Decimal("5000") and project.currency == client.default_currency


@pytest.mark.django_db
def test_history_rows_name_the_user_who_changed_a_record(operator):
    other = UserFactory()
    client = services.client_create(by=operator, name="Old name")
    services.client_update(client=client, by=other, name="New name", status=Client.Status.ACTIVE)

    rows = list(client.history.order_by("history_id").values_list("name", "history_type", "history_user"))
    assert rows == [("Old name", "+", operator.pk), ("New name", "~", other.pk)]


@pytest.mark.django_db
def test_unknown_or_blank_fields_are_refused(operator):
    client = ClientFactory(by=operator)
    with pytest.raises(ValidationError) as caught:
        services.client_update(client=client, by=operator, created_at="2020-01-01")
    assert "created_at" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.client_update(client=client, by=operator, name="   ")
    with pytest.raises(ValidationError):
        services.client_update(client=client, by=operator, status="prospect")
    client.refresh_from_db()
    assert client.name.startswith("Client") and client.status == "active"


@pytest.mark.django_db
def test_proposal_lifecycle_and_frozen_lines(operator):
    proposal = ProposalFactory(by=operator)
    assert proposal.total == Decimal("2512.50")
    services.proposal_transition(proposal=proposal, to=Proposal.Status.SENT, by=operator)
    assert proposal.sent_at is not None
    with pytest.raises(ValidationError):
        services.proposal_update(proposal=proposal, by=operator, lines=[])
    with pytest.raises(ValidationError):
        services.proposal_transition(proposal=proposal, to=Proposal.Status.DRAFT, by=operator)
    services.proposal_transition(proposal=proposal, to=Proposal.Status.ACCEPTED, by=operator)
    proposal.refresh_from_db()
    assert proposal.status == "accepted" and proposal.decided_at is not None
    assert proposal.lines.count() == 2


@pytest.mark.django_db
def test_a_proposal_without_lines_cannot_go_out(operator):
    proposal = ProposalFactory(by=operator, lines=[])
    with pytest.raises(ValidationError):
        services.proposal_transition(proposal=proposal, to=Proposal.Status.SENT, by=operator)
    proposal.refresh_from_db()
    assert proposal.status == "draft"


@pytest.mark.django_db
def test_a_message_id_is_stored_once(operator):
    conversation = services.conversation_create(by=operator, subject="New website")
    first, created = services.message_record(
        conversation=conversation,
        by=operator,
        direction="inbound",
        message_id="<abc@mail.example>",
        from_email="Jonas@BergBakery.se",
        subject="New website",
        body_text="Hello",
    )
    again, created_again = services.message_record(
        conversation=conversation,
        by=operator,
        direction="inbound",
        message_id=" abc@mail.example ",
        from_email="jonas@bergbakery.se",
        subject="New website",
        body_text="Hello",
    )
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert first.message_id == "abc@mail.example" and first.from_email == "jonas@bergbakery.se"
    assert Message.objects.count() == 1
    conversation.refresh_from_db()
    assert conversation.last_message_at == first.created_at
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(conversation=conversation, direction="inbound", message_id="abc@mail.example")


@pytest.mark.django_db
def test_an_email_needs_a_message_id(operator):
    conversation = Conversation.objects.create(subject="x")
    with pytest.raises(ValidationError):
        services.message_record(conversation=conversation, by=operator, direction="inbound", subject="no id")
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_artifacts_are_deduplicated_by_content(operator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    first, created = services.artifact_store(
        by=operator, content=b"%PDF brief", filename="brief.pdf", mime_type="application/pdf"
    )
    second, created_again = services.artifact_store(by=operator, content=b"%PDF brief", filename="copy.pdf")
    assert (created, created_again) == (True, False)
    assert second.pk == first.pk and first.size == 10
    assert len(first.sha256) == 64
    assert first.file.read() == b"%PDF brief"


@pytest.mark.django_db
def test_an_update_that_changes_nothing_writes_nothing(operator):
    client = ClientFactory(by=operator)
    before = (client.history.count(), Client.objects.get(pk=client.pk).updated_at)
    services.client_update(client=client, by=operator)
    assert (client.history.count(), Client.objects.get(pk=client.pk).updated_at) == before
