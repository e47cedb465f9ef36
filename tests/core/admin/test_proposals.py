"""Proposals (and contracts) in the back office: the actions, reverting, and deleting drafts only."""

import pytest
from django.core.exceptions import ValidationError

from core import services
from core.models import Contract, Proposal, ProposalLine
from tests.core.admin.pages import act, form_data, messages_of, url
from tests.factories import ProposalFactory


@pytest.mark.django_db
def test_proposal_actions_follow_the_allowed_transitions(operator_client, operator):
    proposal = ProposalFactory(by=operator)

    act(operator_client, Proposal, "proposal_to_sent", [proposal])
    refused = act(operator_client, Proposal, "proposal_to_draft", [proposal])

    proposal.refresh_from_db()
    assert proposal.status == "sent" and proposal.sent_at is not None
    assert messages_of(refused) == [f"{proposal}: A sent proposal cannot become draft."]
    assert proposal.history.first().history_user == operator
    assert operator_client.get(url(Proposal, "change", proposal.pk)).context["has_change_permission"] is False


@pytest.mark.django_db
def test_a_sent_proposal_cannot_be_reverted_to_its_draft(operator_client, operator):
    proposal = services.proposal_transition(proposal=ProposalFactory(by=operator), to="sent", by=operator)
    draft_version = proposal.history.order_by("history_id").first()
    revert_url = url(Proposal, "simple_history", proposal.pk, draft_version.history_id)

    page = operator_client.get(revert_url)
    assert page.context["revert_disabled"] is True
    assert operator_client.post(revert_url, form_data(page)).status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "sent"


@pytest.mark.django_db
def test_only_draft_proposals_and_contracts_can_be_deleted(operator, operator_client):
    sent = services.proposal_transition(proposal=ProposalFactory(by=operator), to="sent", by=operator)
    draft = ProposalFactory(by=operator)
    with pytest.raises(ValidationError, match="only drafts"):
        services.proposal_delete_draft(proposal=sent, by=operator)
    assert operator_client.get(url(Proposal, "delete", sent.pk)).status_code == 403

    services.proposal_delete_draft(proposal=draft, by=operator)
    assert list(Proposal.objects.all()) == [sent]
    assert ProposalLine.objects.filter(proposal_id=draft.pk).count() == 0
    assert sent.lines.count() == 2

    signed = services.contract_create(client=sent.client, by=operator, title="MSA", status="signed")
    with pytest.raises(ValidationError):
        services.contract_delete_draft(contract=signed, by=operator)
    assert Contract.objects.filter(pk=signed.pk).exists()
