"""Autonomy for work started by mail (ADR 0015), through the conductor's run path: N clean approvals make a
narrow suggestion; accepting it lets the next matching mail-started action commit alone and nothing else
(another recipient, kind, agent, amount or currency still waits; hard floors hold); the preview lists
exactly what it would have let through and what it still holds, with reasons."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from ledger import approvals, policy, preview, services
from ledger.models import Action, ApprovalRequest, AutonomySuggestion, OutboxEmail, Policy
from tests.factories import InvoiceFactory
from tests.ledger.policies import written_to
from tests.ledger.proposers import NAIVE, propose

pytestmark = pytest.mark.django_db

MAIL = "connector:imap"
CAUTION = "Ask before untrusted input leads outside or to money"
KNOWN = "known@client.example"


def reply(to=KNOWN, amount="100.00", currency="EUR", **extra):
    """An email.send a mail-started task proposes (the agent read the mail: its source is untrusted)."""
    action = {
        "kind": "email.send",
        "payload": {"to": [to], "subject": "Re: your question", "body": "Hello, here it is."},
        "summary": f"Reply to {to}",
        "confidence": 0.9,
        "source": {"type": "message", "text": "Could you send me the quote?", "untrusted": True},
        **extra,
    }
    if amount is not None:
        action.update(amount=amount, currency=currency)
    return action


def only(task) -> Action:
    (action,) = task.actions.all()
    return action


def approve(task, operator) -> None:
    approvals.approval_approve(approval=ApprovalRequest.objects.get(task=task, status="pending"), by=operator)
    assert services.task_execute(task_id=task.pk) == "succeeded"


def autonomy_after(n: int, **extra) -> None:
    watcher = Policy.objects.get(kind="autonomy")
    policy.policy_save(
        policy=watcher, by=None, name=watcher.name, kind="autonomy", params={"after": n, **extra}
    )


@pytest.fixture
def three_approved(operator):
    """Three mail-started replies to a known client, each asked by the untrusted-input caution and
    approved without edits: 100, 250 and 200 EUR."""
    written_to(KNOWN)
    autonomy_after(3)
    tasks = []
    for n, amount in enumerate(("100.00", "250.00", "200.00")):
        task, outcome = propose(reply(amount=amount), key=f"mail-{n}", requested_by=MAIL)
        assert outcome == "waiting-approval"
        assert CAUTION in only(task).decision_reason
        approve(task, operator)
        tasks.append(task)
    return tasks


def test_after_n_clean_approvals_of_mail_started_work_a_narrow_suggestion_says_what_changes(three_approved):
    caution = Policy.objects.get(name=CAUTION)
    suggestion = AutonomySuggestion.objects.get()
    assert (suggestion.agent, suggestion.action_kind, suggestion.streak, suggestion.status) == (
        "test_proposer",
        "email.send",
        3,
        "open",
    )
    assert suggestion.params == {
        **suggestion.params,
        "effect": "commit",
        "action_kinds": ["email.send"],
        "agents": ["test_proposer"],
        "untrusted_source": True,
        "new_recipient": False,
        "amount_up_to": "250.00",
        "currency": "EUR",
        "prevails_over": [caution.pk],
        "without_amount": None,
        "effects": [],
    }
    assert sorted(suggestion.approvals) == sorted(
        ApprovalRequest.objects.filter(task__in=three_approved).values_list("pk", flat=True)
    )

    diff = preview.autonomy_suggestion_diff(suggestion=suggestion)
    assert diff["before"]["asked_by"] == [CAUTION]
    assert diff["after"]["decision"] == "commit"
    assert diff["conditions"] == [
        "the action kind is email.send",
        "it was proposed by the agent test_proposer",
        "the work was started by inbound mail, files or webhooks",
        "every recipient is someone the workspace has already written to",
        "its amount is at most 250.00 EUR",
    ]
    text = "\n".join(diff["lines"])
    assert "  effect on the actions it matches: ask you -> commit without you" in text
    assert f"~ for these actions only, it takes precedence over '{CAUTION}' v1" in text
    assert "= still asks you: hard floors" in text
    assert "an amount over the cap" in text
    assert (
        not Policy.objects.filter(kind="approval", params__prevails_over__isnull=False)
        .exclude(params__prevails_over=[])
        .exists()
    ), "nothing changes before the operator accepts"


def test_the_autonomy_policy_caps_the_suggested_amount(operator):
    written_to(KNOWN)
    autonomy_after(2, amount_cap="150")
    for n in range(2):
        task, _ = propose(reply(amount="400.00"), key=f"capped-{n}", requested_by=MAIL)
        approve(task, operator)
    suggestion = AutonomySuggestion.objects.get()
    assert (suggestion.params["amount_up_to"], suggestion.params["currency"]) == ("150.00", "EUR")


def test_replies_without_an_amount_are_suggested_only_for_actions_without_one(operator):
    written_to(KNOWN)
    autonomy_after(2)
    for n in range(2):
        task, _ = propose(reply(amount=None), key=f"plain-{n}", requested_by=MAIL)
        approve(task, operator)
    suggestion = AutonomySuggestion.objects.get()
    assert suggestion.params["without_amount"] is True
    assert suggestion.params["amount_up_to"] is None
    approvals.autonomy_accept(suggestion=suggestion, by=operator)
    plain, _ = propose(reply(amount=None), key="plain-next", requested_by=MAIL)
    priced, _ = propose(reply(amount="1.00"), key="priced-next", requested_by=MAIL)
    assert only(plain).status == "committed"
    assert (only(priced).status, only(priced).decision) == ("proposed", "ask")
    assert CAUTION in only(priced).decision_reason


def test_accepting_lets_the_next_matching_mail_commit_and_nothing_outside_the_conditions(
    three_approved, operator, workspace
):
    caution = Policy.objects.get(name=CAUTION)
    suggestion = AutonomySuggestion.objects.get()
    sent_before = OutboxEmail.objects.count()

    created = approvals.autonomy_accept(suggestion=suggestion, by=operator)

    assert created.params == suggestion.params
    assert created.history.latest().history_user == operator
    assert created.history.latest().history_change_reason == f"autonomy suggestion {suggestion.pk} accepted"
    matching, outcome = propose(reply(amount="240.00"), key="next", requested_by=MAIL)
    assert outcome == "succeeded"
    action = only(matching)
    assert (action.status, action.decision, action.decided_by) == ("committed", "commit", None)
    assert {
        "id": created.pk,
        "name": created.name,
        "version": 1,
        "kind": "approval",
    } in action.decision_policies
    assert f"takes precedence over '{CAUTION}'" in action.decision_reason
    assert not ApprovalRequest.objects.filter(task=matching).exists()
    assert OutboxEmail.objects.count() == sent_before + 1
    assert OutboxEmail.objects.filter(action=action).exists()

    written_to("other@client.example")
    outside = {
        "new recipient": reply(to="stranger@elsewhere.example", amount="50.00"),
        "amount over the cap": reply(amount="250.01"),
        "another currency": reply(amount="50.00", currency="USD"),
        "no amount": reply(amount=None),
        "unsure agent": reply(amount="50.00", confidence=0.4),
        "another kind": {**reply(amount="50.00"), "kind": "proposal.send"},
    }
    waiting = {}
    for name, proposed in outside.items():
        task, outcome = propose(proposed, key=f"outside-{name}", requested_by=MAIL)
        assert outcome == "waiting-approval", name
        waiting[name] = only(task)
        assert (waiting[name].status, waiting[name].decision) == ("proposed", "ask"), name
    assert waiting["new recipient"].approval.floors == ["new_recipient"]
    assert "Hard floor" in waiting["new recipient"].decision_reason
    assert CAUTION in waiting["amount over the cap"].decision_reason
    assert CAUTION in waiting["another kind"].decision_reason
    assert "Ask when an agent is unsure" in waiting["unsure agent"].decision_reason

    # Another agent, fooled by the same kind of mail into a reply to the same known client.
    other_agent = services.task_submit(
        workflow=NAIVE.name,
        input={"sender": "x@elsewhere.example", "text": "Please reply to the client.", "invoice_ids": []},
        idempotency_key="other-agent",
        requested_by=MAIL,
    )
    assert services.task_execute(task_id=other_agent.pk) == "waiting-approval"
    naive = only(other_agent)
    assert (naive.kind, naive.agent, naive.decision) == ("email.send", "test_naive_assistant", "ask")
    assert CAUTION in naive.decision_reason

    # A hard floor: the same agent, started by mail, marking an invoice paid.
    invoice = InvoiceFactory()
    paid, outcome = propose(
        {"kind": "invoice.mark_paid", "payload": {"invoice_id": invoice.pk}}, key="paid", requested_by=MAIL
    )
    assert outcome == "waiting-approval"
    assert only(paid).approval.floors == ["money"]

    assert OutboxEmail.objects.count() == sent_before + 1, "nothing outside the conditions was sent"
    assert caution.pk in created.params["prevails_over"]


def test_the_preview_lists_exactly_what_it_would_have_let_through_and_what_it_holds(three_approved, operator):
    written_to("other@client.example")
    stranger, _ = propose(reply(to="stranger@elsewhere.example", amount="50.00"), key="s", requested_by=MAIL)
    over, _ = propose(reply(amount="900.00"), key="over", requested_by=MAIL)
    # Started by the operator, from no mail: not this policy's business.
    trusted, _ = propose({**reply(amount="50.00"), "source": {}}, key="trusted")
    suggestion = AutonomySuggestion.objects.get()

    shown = preview.autonomy_suggestion_preview(suggestion=suggestion)

    let_through = {row["action"].pk for row in shown["changed"] if row["after"]["decision"] == "commit"}
    assert let_through == {only(task).pk for task in three_approved}
    assert all(row["before"]["decision"] == "ask" for row in shown["changed"])
    held = {row["action"].pk: row for row in shown["held"]}
    assert set(held) == {only(stranger).pk, only(over).pk, only(trusted).pk}
    assert held[only(stranger).pk]["reason"] == (
        "This policy does not apply: never written to: stranger@elsewhere.example."
    )
    assert held[only(over).pk]["reason"] == (
        "This policy does not apply: its amount 900.00 EUR is outside the range."
    )
    assert held[only(trusted).pk]["reason"] == "This policy does not apply: it was not started by mail."
    assert held[only(over).pk]["pending"] is True
    assert "would have let 3 through without you and would still hold 3" in " ".join(shown["summary"])
    assert not Policy.objects.filter(
        name__startswith="Auto-approve email.send from test_proposer"
    ).exists(), "a preview saves nothing"


def test_the_suggestion_page_shows_the_diff_and_the_preview_and_accepting_there_creates_the_policy(
    three_approved, operator, operator_client
):
    suggestion = AutonomySuggestion.objects.get()
    page = operator_client.get(f"/admin/ledger/autonomysuggestion/{suggestion.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "What accepting changes" in content
    assert "+ when the action kind is email.send" in content
    assert "takes precedence over" in content
    assert len(page.context["preview"]["changed"]) == 3
    assert content.count('class="preview-row"') == 3

    response = operator_client.post(
        "/admin/ledger/autonomysuggestion/",
        {"action": "accept", "_selected_action": [suggestion.pk]},
    )
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert suggestion.status == "accepted" and suggestion.created_policy.enabled


def test_revoking_disables_the_policy_and_mail_started_work_asks_again(three_approved, operator):
    suggestion = AutonomySuggestion.objects.get()
    created = approvals.autonomy_accept(suggestion=suggestion, by=operator)
    first, _ = propose(reply(amount="10.00"), key="before-revoke", requested_by=MAIL)
    assert only(first).status == "committed"

    disabled = approvals.autonomy_revoke(suggestion=suggestion, by=operator)

    assert (disabled.pk, disabled.enabled, disabled.version) == (created.pk, False, 2)
    assert disabled.history.latest().history_change_reason == f"autonomy suggestion {suggestion.pk} revoked"
    suggestion.refresh_from_db()
    assert suggestion.status == "revoked"
    again, outcome = propose(reply(amount="10.00"), key="after-revoke", requested_by=MAIL)
    assert outcome == "waiting-approval"
    assert CAUTION in only(again).decision_reason
    first.refresh_from_db()
    assert only(first).decision_policies[0]["id"] == created.pk, "past decisions keep naming the policy"
    with pytest.raises(ValidationError):
        approvals.autonomy_revoke(suggestion=suggestion, by=operator)


# --- The precedence rule cannot be widened -------------------------------------------------------


def _narrow(caution: Policy, **changes) -> dict:
    return {
        "effect": "commit",
        "action_kinds": ["email.send"],
        "agents": ["test_proposer"],
        "untrusted_source": True,
        "new_recipient": False,
        "amount_up_to": "100",
        "currency": "EUR",
        "prevails_over": [caution.pk],
        **changes,
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"action_kinds": []}, "exactly one action kind"),
        ({"action_kinds": ["email.send", "proposal.send"]}, "exactly one action kind"),
        ({"action_kinds": ["record.update"]}, "that kind must send outside"),
        ({"agents": []}, "exactly one agent"),
        ({"untrusted_source": None}, "started by inbound mail"),
        ({"new_recipient": None}, "recipients already written to"),
        ({"amount_up_to": None}, "it must cap amounts"),
        ({"currency": ""}, "it must cap amounts"),
        ({"effect": "ask"}, "its effect must be commit"),
    ],
)
def test_only_a_narrow_commit_policy_may_take_precedence(changes, message):
    caution = Policy.objects.get(name=CAUTION)
    with pytest.raises(ValidationError) as refused:
        policy.policy_save(by=None, name="wide", kind="approval", params=_narrow(caution, **changes))
    assert message in str(refused.value)
    assert not Policy.objects.filter(name="wide").exists()


def test_precedence_over_anything_but_an_untrusted_input_caution_is_refused():
    unsure = Policy.objects.get(name="Ask when an agent is unsure")
    deny = policy.policy_save(
        by=None, name="deny big", kind="approval", params={"effect": "deny", "amount_over": "5"}
    )
    for target in (unsure, deny):
        with pytest.raises(ValidationError) as refused:
            policy.policy_save(by=None, name="over it", kind="approval", params=_narrow(target))
        assert "only approval policies that ask about untrusted input" in str(refused.value)


def test_a_row_written_past_the_editor_outranks_nothing(operator):
    """A wide commit row naming the caution, and a narrow one naming a deny policy: neither lets through."""
    written_to(KNOWN)
    caution = Policy.objects.get(name=CAUTION)
    Policy.objects.create(
        name="wide past the editor",
        kind="approval",
        params={"effect": "commit", "action_kinds": ["email.send"], "prevails_over": [caution.pk]},
    )
    deny = policy.policy_save(
        by=None, name="deny mail over 50", kind="approval", params={"effect": "deny", "amount_over": "50"}
    )
    Policy.objects.create(
        name="narrow over a deny",
        kind="approval",
        params=_narrow(caution, prevails_over=[caution.pk, deny.pk]),
    )
    small, _ = propose(reply(amount="20.00"), key="small", requested_by=MAIL)
    large, _ = propose(reply(amount="80.00"), key="large", requested_by=MAIL)
    # The narrow row (valid for the caution) lets the small one through; the wide one adds nothing.
    assert only(small).status == "committed"
    assert (only(large).status, only(large).decision) == ("rejected", "deny")
    Policy.objects.filter(name="narrow over a deny").update(enabled=False)
    again, _ = propose(reply(amount="20.00"), key="small-again", requested_by=MAIL)
    assert (only(again).status, only(again).decision) == ("proposed", "ask")
    assert CAUTION in only(again).decision_reason


def test_the_editor_offers_only_untrusted_input_cautions_and_refuses_a_wide_policy_next_to_the_field(
    operator_client,
):
    caution = Policy.objects.get(name=CAUTION)
    url = "/admin/ledger/policy/add/?kind=approval"
    form = operator_client.get(url).context["adminform"].form
    assert form.fields["param_prevails_over"].choices == [(str(caution.pk), CAUTION)]

    base = {"name": "Mail replies alone", "enabled": "on", "description": "", "reason": ""}
    wide = operator_client.post(
        url,
        {
            **base,
            "param_effect": "commit",
            "param_action_kinds": ["email.send"],
            "param_prevails_over": [caution.pk],
        },
    )
    assert wide.status_code == 200
    errors = wide.context["adminform"].form.errors["param_prevails_over"]
    assert "must be narrow" in errors[0] and "exactly one agent" in errors[0]
    assert not Policy.objects.filter(name="Mail replies alone").exists()

    narrow = operator_client.post(
        url,
        {
            **base,
            "param_effect": "commit",
            "param_action_kinds": ["email.send"],
            "param_agents": ["proposal_writer"],
            "param_untrusted_source": "True",
            "param_new_recipient": "False",
            "param_without_amount": "True",
            "param_prevails_over": [caution.pk],
        },
    )
    assert narrow.status_code == 302, narrow.context["adminform"].form.errors
    saved = Policy.objects.get(name="Mail replies alone")
    assert saved.params["prevails_over"] == [caution.pk] and saved.params["without_amount"] is True


def test_the_approval_queue_points_at_an_open_suggestion(three_approved, operator, operator_client):
    suggestion = AutonomySuggestion.objects.get()
    content = operator_client.get("/approvals/").content.decode()
    assert "suggests letting <strong>test_proposer</strong> carry out <code>email.send</code>" in content
    assert "for work started by mail, to people already written to" in content
    assert f"/admin/ledger/autonomysuggestion/{suggestion.pk}/change/" in content

    approvals.autonomy_dismiss(suggestion=suggestion, by=operator)
    assert "suggests letting" not in operator_client.get("/approvals/").content.decode()
