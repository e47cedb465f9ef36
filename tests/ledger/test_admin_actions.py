"""The admins of the approval queue and the autonomy suggestions, which act through `ledger.approvals`
(in ledger.admin.actions, beside the actions themselves)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.models import Action, ApprovalRequest, AutonomySuggestion, Policy
from tests.ledger.states import waiting_email
from tests.ledger.test_admin import act, messages_of
from tests.ledger.test_admin_policies import DEFAULT_POLICIES, named

QUEUE_QUERIES = 9  # the same for one row or many: the list joins the action, no query per row


@pytest.mark.django_db
def test_the_approval_queue_lists_requests_and_approves_the_selected_ones(
    operator_client, operator, django_assert_num_queries
):
    task = waiting_email(operator)
    waiting_email(operator, key="other")
    approval = task.approvals.get()
    changelist = reverse("admin:ledger_approvalrequest_changelist")

    with django_assert_num_queries(QUEUE_QUERIES):
        listed = operator_client.get(changelist + "?status__exact=pending")
    assert listed.context["cl"].result_count == 2
    assert (
        operator_client.get(reverse("admin:ledger_approvalrequest_change", args=[approval.pk])).status_code
        == 200
    )
    response = act(operator_client, ApprovalRequest, "approve", [approval])

    approval.refresh_from_db()
    assert (approval.status, approval.decided_by) == ("approved", operator)
    assert approval.action.status in (Action.Status.APPROVED, Action.Status.COMMITTED)
    assert any(message.startswith("Approved: ") for message in messages_of(response))


@pytest.mark.django_db
def test_rejecting_from_the_queue_asks_for_a_reason_first(operator_client, operator):
    approval = waiting_email(operator).approvals.get()

    confirmation = act(operator_client, ApprovalRequest, "reject", [approval])
    assert confirmation.templates[0].name == "admin/reason_confirmation.html"
    approval.refresh_from_db()
    assert approval.status == "pending"

    act(operator_client, ApprovalRequest, "reject", [approval], confirm="yes", reason="Wrong client")

    approval.refresh_from_db()
    assert (approval.status, approval.reject_reason) == ("rejected", "Wrong client")
    assert approval.action.status == Action.Status.REJECTED


@pytest.mark.django_db
def test_the_reason_page_lists_the_selected_requests_without_a_query_each(operator_client, operator):
    # The admin action gets the rows as the list has them, joined to their action (list_select_related).
    approvals = [waiting_email(operator, key=key).approvals.get() for key in ("one", "two", "three")]

    with CaptureQueriesContext(connection) as for_one:
        act(operator_client, ApprovalRequest, "reject", approvals[:1])
    with CaptureQueriesContext(connection) as for_three:
        confirmation = act(operator_client, ApprovalRequest, "reject", approvals)

    assert len(confirmation.context["items"]) == 3
    assert len(for_three) == len(for_one)


@pytest.mark.django_db
def test_an_already_decided_request_is_refused_with_a_message(operator_client, operator):
    approval = waiting_email(operator).approvals.get()
    act(operator_client, ApprovalRequest, "approve", [approval])

    response = act(operator_client, ApprovalRequest, "approve", [approval])

    assert any("already approved" in message for message in messages_of(response))


@pytest.fixture
def suggestion():
    return AutonomySuggestion.objects.create(
        agent="mail_composer",
        action_kind="email.send",
        streak=5,
        autonomy_policy=named("Suggest autonomy after 5 clean approvals"),
    )


@pytest.mark.django_db
def test_accepting_a_suggestion_creates_the_approval_policy(operator_client, operator, suggestion):
    assert operator_client.get(reverse("admin:ledger_autonomysuggestion_changelist")).status_code == 200
    page = reverse("admin:ledger_autonomysuggestion_change", args=[suggestion.pk])
    assert operator_client.get(page).status_code == 200

    act(operator_client, AutonomySuggestion, "accept", [suggestion])

    suggestion.refresh_from_db()
    created = named("Auto-approve email.send from mail_composer")
    assert (suggestion.status, suggestion.created_policy, suggestion.decided_by) == (
        "accepted",
        created,
        operator,
    )
    assert created.params["effect"] == "commit"
    assert (created.params["action_kinds"], created.params["agents"]) == (["email.send"], ["mail_composer"])
    assert created.updated_by == operator
    assert Policy.objects.count() == DEFAULT_POLICIES + 1


@pytest.mark.django_db
def test_dismissing_a_suggestion_creates_no_policy(operator_client, operator, suggestion):
    act(operator_client, AutonomySuggestion, "dismiss", [suggestion])

    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.created_policy) == ("dismissed", None)
    assert Policy.objects.count() == DEFAULT_POLICIES
