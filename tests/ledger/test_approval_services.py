"""The approval queue's services: edit then approve, expiry, autonomy suggestions, reversal, digest."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import Client
from ledger import approvals, services
from ledger.models import Action, ApprovalRequest, AutonomySuggestion, Policy, Task, TaskEvent
from tests.factories import ClientFactory
from tests.ledger.policies import allow, written_to
from tests.ledger.proposers import propose

pytestmark = pytest.mark.django_db


def update(client, **fields):
    return {
        "kind": "record.update",
        "payload": {"model": "core.client", "pk": client.pk, "fields": fields},
        "summary": f"Update {client.name}",
    }


def email(to="known@client.example", subject="Hello"):
    return {"kind": "email.send", "payload": {"to": [to], "subject": subject, "body": "Hi."}}


def pending(task) -> ApprovalRequest:
    return ApprovalRequest.objects.get(task=task, status="pending")


# --- Deciding ----------------------------------------------------------------------------------


def test_edit_then_approve_stores_the_edit_as_a_diff_and_commits_the_edited_draft(operator):
    written_to("known@client.example")
    task, _ = propose(email(), key="edit")
    approval = pending(task)

    approvals.approval_approve(
        approval=approval, by=operator, changes={"subject": "Hello again", "body": "Hi."}
    )

    approval.refresh_from_db()
    assert approval.status == "approved" and approval.edited is True
    assert approval.edit_diff == {"subject": {"before": "Hello", "after": "Hello again"}}
    assert services.task_execute(task_id=task.pk) == "succeeded"
    assert [message.subject for message in mail.outbox] == ["Hello again"]
    event = task.events.get(kind=TaskEvent.Kind.APPROVAL_GIVEN)
    assert event.data["edited"] == ["subject"]


def test_an_edit_that_breaks_the_draft_is_refused_and_nothing_changes(operator):
    written_to("known@client.example")
    task, _ = propose(email(), key="bad-edit")
    approval = pending(task)
    with pytest.raises(ValidationError) as refused:
        approvals.approval_approve(approval=approval, by=operator, changes={"to": ["not an address"]})
    assert "to.0" in refused.value.message_dict
    with pytest.raises(ValidationError):
        approvals.approval_approve(approval=approval, by=operator, changes={"bcc": ["x@y.example"]})
    approval.refresh_from_db()
    action = Action.objects.get(pk=approval.action_id)
    assert approval.status == "pending" and action.status == "proposed"
    assert action.payload["to"] == ["known@client.example"]


def test_reject_needs_a_reason_and_a_decided_request_cannot_be_decided_again(operator):
    written_to("known@client.example")
    task, _ = propose(email(), key="reject")
    approval = pending(task)
    with pytest.raises(ValidationError, match="Say why"):
        approvals.approval_reject(approval=approval, by=operator, reason="  ")
    approvals.approval_reject(approval=approval, by=operator, reason="Wrong client")
    approval.refresh_from_db()
    assert (approval.status, approval.reject_reason, approval.decided_by) == (
        "rejected",
        "Wrong client",
        operator,
    )
    assert Action.objects.get(pk=approval.action_id).decision_reason == "Wrong client"
    with pytest.raises(ValidationError, match="already rejected"):
        approvals.approval_approve(approval=approval, by=operator)
    assert services.task_execute(task_id=task.pk) == "succeeded"
    assert mail.outbox == []


def test_batch_approval_reports_what_it_could_not_do(operator):
    written_to("known@client.example")
    tasks = [propose(email(subject=f"Mail {n}"), key=f"batch-{n}")[0] for n in range(3)]
    ids = [pending(task).pk for task in tasks]
    approvals.approval_reject(approval=ApprovalRequest.objects.get(pk=ids[1]), by=operator, reason="no")

    result = approvals.approvals_approve_many(ids=[*ids, 999999], by=operator)

    assert result.done == [ids[0], ids[2]]
    assert set(result.refused) == {ids[1], 999999}
    statuses = dict(ApprovalRequest.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses == {ids[0]: "approved", ids[1]: "rejected", ids[2]: "approved"}
    assert Task.objects.filter(pk__in=[tasks[0].pk, tasks[2].pk], status="queued").count() == 2


def test_an_expired_request_rejects_its_action_and_the_task_is_told(operator, settings):
    settings.AIOS_APPROVAL_EXPIRY_HOURS = 2
    written_to("known@client.example")
    task, _ = propose(email(), key="expire")
    approval = pending(task)
    assert approval.expires_at - approval.created_at == pytest.approx(
        dt.timedelta(hours=2), abs=dt.timedelta(seconds=5)
    )

    assert approvals.approvals_expire(now=timezone.now() + dt.timedelta(hours=1)) == 0
    assert approvals.approvals_expire(now=timezone.now() + dt.timedelta(hours=3)) == 1

    approval.refresh_from_db()
    action = Action.objects.get(pk=approval.action_id)
    assert approval.status == "expired"
    assert action.status == "rejected" and "expired" in action.decision_reason
    task.refresh_from_db()
    assert task.status == "queued"
    assert TaskEvent.objects.filter(task=task, kind=TaskEvent.Kind.APPROVAL_EXPIRED).count() == 1
    assert services.task_execute(task_id=task.pk) == "succeeded"
    assert mail.outbox == []


def test_cancelling_a_task_cancels_its_pending_requests(operator):
    written_to("known@client.example")
    task, _ = propose(email(), key="cancel")
    services.task_cancel(task=task, by=operator, reason="not needed")
    assert pending_count() == 0
    assert ApprovalRequest.objects.get(task=task).status == "cancelled"


def pending_count():
    return ApprovalRequest.objects.filter(status="pending").count()


# --- Autonomy ----------------------------------------------------------------------------------


def _autonomy_after(n: int) -> None:
    watcher = Policy.objects.get(kind="autonomy")
    from ledger import policy

    policy.policy_save(policy=watcher, by=None, name=watcher.name, kind="autonomy", params={"after": n})


def test_autonomy_is_suggested_after_n_clean_approvals_and_an_edit_resets_the_run(operator):
    _autonomy_after(3)
    client = ClientFactory()

    def approve(n, **changes):
        task, _ = propose(update(client, website=f"https://v{n}.example"), key=f"auto-{n}")
        approvals.approval_approve(approval=pending(task), by=operator, changes=changes or None)
        services.task_execute(task_id=task.pk)

    approve(1)
    approve(2)
    approve(3, fields={"website": "https://edited.example"})  # an edit: the run starts again
    approve(4)
    approve(5)
    assert not AutonomySuggestion.objects.exists()
    approve(6)
    suggestion = AutonomySuggestion.objects.get()
    assert (suggestion.agent, suggestion.action_kind, suggestion.streak, suggestion.status) == (
        "test_proposer",
        "record.update",
        3,
        "open",
    )
    approve(7)
    assert AutonomySuggestion.objects.count() == 1, "one open suggestion at a time"

    created = approvals.autonomy_accept(suggestion=suggestion, by=operator)

    assert created.params == {
        **created.params,
        "effect": "commit",
        "action_kinds": ["record.update"],
        "agents": ["test_proposer"],
    }
    assert created.history.latest().history_user == operator
    task, outcome = propose(update(client, website="https://alone.example"), key="auto-alone")
    assert outcome == "succeeded"
    client.refresh_from_db()
    assert client.website == "https://alone.example"


def test_a_rejection_resets_the_run_and_money_kinds_are_never_suggested(operator, workspace):
    _autonomy_after(2)
    client = ClientFactory()
    first, _ = propose(update(client, website="https://a.example"), key="r1")
    approvals.approval_approve(approval=pending(first), by=operator)
    second, _ = propose(update(client, website="https://b.example"), key="r2")
    approvals.approval_reject(approval=pending(second), by=operator, reason="no")
    third, _ = propose(update(client, website="https://c.example"), key="r3")
    approvals.approval_approve(approval=pending(third), by=operator)
    assert not AutonomySuggestion.objects.exists()
    assert approvals.approval_streak(agent="test_proposer", kind="record.update", limit=5) == 1

    for n in range(3):
        task, _ = propose({"kind": "invoice.mark_paid", "payload": {"invoice_id": 1}}, key=f"paid-{n}")
        approvals.approval_approve(approval=pending(task), by=operator)
    assert not AutonomySuggestion.objects.filter(action_kind="invoice.mark_paid").exists()


# --- Reversal ----------------------------------------------------------------------------------


def _committed_update(client, **fields):
    allow("record.update")
    task, outcome = propose(update(client, **fields), key=f"change-{client.pk}-{sorted(fields)}")
    assert outcome == "succeeded"
    return Action.objects.get(task=task)


def test_a_committed_change_is_reverted_as_a_new_recorded_task(operator):
    client = ClientFactory(website="https://before.example", notes="old notes")
    change = _committed_update(client, website="https://after.example", notes="new notes")
    client.refresh_from_db()
    assert (client.website, client.notes) == ("https://after.example", "new notes")

    reversal = approvals.action_revert_request(action=change, by=operator)

    assert reversal.workflow == "record.revert" and reversal.requested_by_user == operator
    assert services.task_execute(task_id=reversal.pk) == "succeeded"
    client.refresh_from_db()
    assert (client.website, client.notes) == ("https://before.example", "old notes")
    revert = Action.objects.get(task=reversal)
    assert revert.decision_policies[0]["name"] == "builtin:operator-request"
    latest = client.history.order_by("-history_id").first()
    assert latest.history_change_reason == f"task {reversal.pk} (record.revert)"
    assert change.task.events.filter(kind=TaskEvent.Kind.REVERSAL_ASKED).count() == 1
    with pytest.raises(ValidationError, match="already asked"):
        approvals.action_revert_request(action=change, by=operator)


def test_a_change_overtaken_by_a_later_one_is_not_reverted(operator):
    client = ClientFactory(website="https://before.example")
    change = _committed_update(client, website="https://after.example")
    from core import services as core_services

    core_services.client_update(client=Client.objects.get(pk=client.pk), by=operator, notes="edited later")
    reversal = approvals.action_revert_request(action=change, by=operator)

    assert services.task_execute(task_id=reversal.pk) == "failed"
    reversal.refresh_from_db()
    assert reversal.status == "dead" and "changed again" in reversal.last_error
    client.refresh_from_db()
    assert (client.website, client.notes) == ("https://after.example", "edited later")


def test_sent_email_is_irreversible_and_never_offered(operator, operator_client):
    written_to("known@client.example")
    allow("email.send")
    task, outcome = propose(email(), key="sent")
    assert outcome == "succeeded"
    action = Action.objects.get(task=task)
    with pytest.raises(ValidationError, match="cannot be unsent"):
        approvals.action_revert_request(action=action, by=operator)
    assert not Task.objects.filter(workflow="record.revert").exists()
    html = operator_client.get(f"/tasks/{task.pk}/").content.decode()
    assert "Irreversible: A sent email cannot be unsent." in html
    assert "Revert this change" not in html
    response = operator_client.post(f"/tasks/actions/{action.pk}/revert")
    assert response.status_code == 302
    assert not Task.objects.filter(workflow="record.revert").exists()


def test_the_task_page_offers_revert_and_the_button_queues_the_reversal(operator, operator_client):
    client = ClientFactory(website="https://before.example")
    change = _committed_update(client, website="https://after.example")
    html = operator_client.get(f"/tasks/{change.task_id}/").content.decode()
    assert "Revert this change" in html

    response = operator_client.post(f"/tasks/actions/{change.pk}/revert")

    reversal = Task.objects.get(workflow="record.revert")
    assert response.status_code == 302 and response["Location"] == f"/tasks/{reversal.pk}/"
    assert reversal.input == {"action_id": change.pk}
    html = operator_client.get(f"/tasks/{change.task_id}/").content.decode()
    assert "Reversal asked" in html and "Revert this change" not in html


# --- Digest ------------------------------------------------------------------------------------


def test_the_digest_lists_what_waits_and_the_dead_letters_and_goes_to_the_operator(operator, workspace):
    from tests.ledger.states import dead_letter

    written_to("known@client.example")
    propose(email(subject="Waiting one"), key="digest-wait")
    dead_letter()
    from ledger.tasks import approvals_digest

    task = Task.objects.get(pk=approvals_digest())
    assert services.task_execute(task_id=task.pk) == "succeeded"
    (sent,) = mail.outbox
    assert sent.to == ["operator@example.com"]
    assert "1 waiting for approval, 1 dead letters" in sent.subject
    assert "/approvals/" in sent.body and "email.send" in sent.body
    assert Action.objects.get(task=task).decision_policies[0]["name"] == "builtin:operator-notice"
    assert approvals_digest() == str(task.pk), "one digest per day"


def test_no_digest_when_nothing_waits(workspace):
    from ledger.tasks import approvals_digest

    task = Task.objects.get(pk=approvals_digest())
    assert services.task_execute(task_id=task.pk) == "succeeded"
    assert mail.outbox == [] and not task.actions.exists()
