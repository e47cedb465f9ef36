"""The policy editor (one form per kind, validated by the policy engine, saved through `policy_save`) and its
preview (decides again with the draft, saves nothing): ledger.admin.policies.

The migration 0005 seeds seven default policies; the tests count from them.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from core.models import MemoryItem
from ledger import policy
from ledger.models import Action, ApprovalRequest, LLMCall, Policy, Task
from ledger.preview import policy_preview
from tests.ledger.states import waiting_email

# Seven from 0005_default_policies, the reminder policy (0007) and the delivery policy (0008).
DEFAULT_POLICIES = 9


def add_url(kind=None):
    url = reverse("admin:ledger_policy_add")
    return f"{url}?kind={kind}" if kind else url


def change_url(obj):
    return reverse("admin:ledger_policy_change", args=[obj.pk])


def approval_form(**params):
    """The POST of the approval add form: the policy's own fields, then the parameters given."""
    return {"name": "Draft", "enabled": "on", "description": "", "reason": "", **params}


def named(name):
    return Policy.objects.get(name=name)


# --- Adding: kind first, then a form of that kind's parameters ------------------------------


@pytest.mark.django_db
def test_adding_without_a_kind_offers_every_kind(operator_client):
    response = operator_client.get(add_url())

    assert response.status_code == 200
    for kind in Policy.Kind.values:
        assert f"?kind={kind}" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", Policy.Kind.values)
def test_each_kind_has_a_form_of_its_parameters_with_their_help_text(operator_client, kind):
    response = operator_client.get(add_url(kind))

    assert response.status_code == 200
    form = response.context["adminform"].form
    params = policy.PARAMS[kind].model_fields
    assert {name for name in form.fields if name.startswith("param_")} == {f"param_{n}" for n in params}
    content = response.content.decode()
    for info in params.values():
        assert info.description in content  # the admin shows help text as written
    assert 'name="_preview"' in content


@pytest.mark.django_db
def test_the_approval_form_offers_choices_not_free_text(operator_client):
    fields = operator_client.get(add_url("approval")).context["adminform"].form.fields

    assert [value for value, _ in fields["param_effect"].choices] == ["commit", "ask", "deny"]
    assert ("email.send", "email.send (external)") in fields["param_action_kinds"].choices
    assert ("mail_composer", "mail_composer") in fields["param_agents"].choices
    assert [value for value, _ in fields["param_new_recipient"].choices] == ["", "True", "False"]
    assert fields["param_amount_over"].__class__.__name__ == "DecimalField"


@pytest.mark.django_db
def test_a_valid_approval_policy_is_saved_by_policy_save_naming_the_operator(operator_client, operator):
    response = operator_client.post(
        add_url("approval"),
        approval_form(
            name="Small invoices from the composer ask",
            param_effect="ask",
            param_agents=["mail_composer"],
            param_amount_over="100.00",
            param_currency="eur",
            param_new_recipient="False",
            reason="trying it",
        ),
    )

    assert response.status_code == 302
    created = named("Small invoices from the composer ask")
    assert (created.kind, created.version, created.updated_by) == ("approval", 1, operator)
    assert created.params == policy.policy_params_validate(
        kind="approval",
        params={
            "effect": "ask",
            "agents": ["mail_composer"],
            "amount_over": "100.00",
            "currency": "EUR",
            "new_recipient": False,
        },
    )
    row = created.history.get()
    assert (row.history_type, row.history_user, row.history_change_reason) == ("+", operator, "trying it")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "params", "field", "message"),
    [
        ("autonomy", {"param_after": "1"}, "param_after", "Input should be greater than or equal to 2"),
        (
            "approval",
            {"param_effect": "ask", "param_currency": "XYZ"},
            "param_currency",
            "'XYZ' is not an ISO 4217 currency code",
        ),
        ("approval", {"param_effect": "maybe"}, "param_effect", "Select a valid choice."),
        (
            "retention",
            {"param_tier": "working", "param_days": "0"},
            "param_days",
            "greater than or equal to 1",
        ),
        ("budget", {"param_scope": "workspace", "param_monthly_cap": "ten"}, "param_monthly_cap", "number"),
    ],
)
def test_a_bad_parameter_is_shown_next_to_its_field_and_nothing_is_saved(
    operator_client, kind, params, field, message
):
    response = operator_client.post(add_url(kind), approval_form(**params))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert Policy.objects.count() == DEFAULT_POLICIES


@pytest.mark.django_db
def test_a_whole_policy_refusal_is_a_non_field_error(operator_client):
    response = operator_client.post(
        add_url("budget"), approval_form(param_scope="agent", param_monthly_cap="5")
    )

    assert response.context["adminform"].form.non_field_errors() == ["Name the agent whose spend is capped"]
    assert Policy.objects.count() == DEFAULT_POLICIES


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "floor"),
    [
        ({"param_action_kinds": ["invoice.mark_paid"]}, "Hard floor: invoice.mark_paid cannot commit"),
        ({"param_action_kinds": ["record.delete"]}, "Hard floor: record.delete cannot commit"),
        ({"param_effects": ["money"]}, "Hard floor: money cannot commit"),
        (
            {"param_action_kinds": ["email.send"], "param_new_recipient": "True"},
            "Hard floor: sending to a recipient the workspace has never written to always needs the operator",
        ),
    ],
)
def test_the_editor_refuses_to_lift_a_hard_floor(operator_client, params, floor):
    response = operator_client.post(add_url("approval"), approval_form(param_effect="commit", **params))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert len(form.non_field_errors()) == 1
    assert form.non_field_errors()[0].startswith(floor)
    assert escape(floor) in response.content.decode()
    assert Policy.objects.count() == DEFAULT_POLICIES


@pytest.mark.django_db
def test_a_duplicate_name_is_refused_on_the_name_field(operator_client):
    response = operator_client.post(
        add_url("approval"), approval_form(name="Ask when an agent is unsure", param_effect="ask")
    )

    assert list(response.context["adminform"].form.errors) == ["name"]
    assert Policy.objects.count() == DEFAULT_POLICIES


# --- Changing -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_change_form_starts_from_the_stored_parameters_and_the_kind_is_read_only(operator_client):
    budget = named("Monthly LLM budget")

    response = operator_client.get(change_url(budget))

    form = response.context["adminform"].form
    assert "kind" not in form.fields
    assert form.initial["param_scope"] == "workspace"
    assert form.initial["param_monthly_cap"] == "20.00"
    assert form.initial["param_critical"] == "rules"


@pytest.mark.django_db
def test_a_valid_edit_bumps_the_version_and_adds_a_history_row_naming_the_operator(operator_client, operator):
    budget = named("Monthly LLM budget")

    response = operator_client.post(
        change_url(budget),
        {
            "name": budget.name,
            "enabled": "on",
            "description": budget.description,
            "param_scope": "workspace",
            "param_agent": "",
            "param_monthly_cap": "35.50",
            "param_critical": "cheaper",
            "reason": "more clients this month",
            "kind": "approval",  # ignored: the kind is not a field of the form
        },
    )

    assert response.status_code == 302
    budget.refresh_from_db()
    assert budget.kind == "budget"
    assert budget.version == 2
    assert budget.params == {"scope": "workspace", "agent": "", "monthly_cap": "35.50", "critical": "cheaper"}
    assert budget.updated_by == operator
    latest = budget.history.order_by("-history_id").first()
    assert budget.history.count() == 2
    assert (latest.history_type, latest.history_user, latest.version) == ("~", operator, 2)
    assert latest.history_change_reason == "more clients this month"
    assert operator_client.get(reverse("admin:ledger_policy_history", args=[budget.pk])).status_code == 200


@pytest.mark.django_db
def test_reverting_from_the_history_saves_a_new_version_through_policy_save(operator_client, operator):
    session = named("Session memory: 7 days")
    operator_client.post(
        change_url(session),
        {"name": session.name, "enabled": "on", "param_tier": "session", "param_days": "3"},
    )
    first = session.history.order_by("history_id").first()
    revert_url = reverse("admin:ledger_policy_simple_history", args=[session.pk, first.history_id])

    form = operator_client.get(revert_url).context["adminform"].form
    assert form.initial["param_days"] == 7
    response = operator_client.post(
        revert_url, {"name": session.name, "enabled": "on", "param_tier": "session", "param_days": "7"}
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.version, session.params["days"], session.history.count()) == (3, 7, 3)
    assert session.history.order_by("-history_id").first().history_user == operator


@pytest.mark.django_db
def test_a_bad_edit_changes_nothing(operator_client):
    unsure = named("Ask when an agent is unsure")

    response = operator_client.post(
        change_url(unsure),
        {"name": unsure.name, "enabled": "on", "param_effect": "commit", "param_effects": ["delete"]},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()[0].startswith("Hard floor: delete")
    unsure.refresh_from_db()
    assert (unsure.version, unsure.params["effect"], unsure.history.count()) == (1, "ask", 1)


@pytest.mark.django_db
def test_policies_are_disabled_not_deleted(operator_client):
    unsure = named("Ask when an agent is unsure")

    response = operator_client.post(reverse("admin:ledger_policy_delete", args=[unsure.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Policy.objects.filter(pk=unsure.pk).exists()


@pytest.mark.django_db
def test_the_policy_list_shows_kind_state_and_version(operator_client, django_assert_num_queries):
    with django_assert_num_queries(6):
        response = operator_client.get(reverse("admin:ledger_policy_changelist") + "?kind__exact=approval")

    assert response.status_code == 200
    assert response.context["cl"].result_count == 3


# --- Preview --------------------------------------------------------------------------------------


def _task(key, status=Task.Status.SUCCEEDED):
    return Task.objects.create(
        workflow="test.preview", idempotency_key=key, requested_by_kind=Task.Requester.SYSTEM, status=status
    )


def _decided(key, kind, decision, status=Action.Status.COMMITTED, **fields):
    """An action as the conductor leaves it once decided (rows made directly: no workflow proposes them)."""
    return Action.objects.create(
        task=_task(key),
        step="act",
        kind=kind,
        idempotency_key=key,
        decision=decision,
        decision_reason="as decided then",
        status=status,
        agent="echo",
        **fields,
    )


def _pending(key, kind):
    task = _task(key, status=Task.Status.WAITING_APPROVAL)
    action = Action.objects.create(
        task=task, step="act", kind=kind, idempotency_key=key, decision="ask", agent="echo"
    )
    ApprovalRequest.objects.create(
        action=action, task=task, reason="no policy", expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    return action


@pytest.fixture
def decided_and_pending(operator):
    return {
        "update_approved": _decided("a", "record.update", "ask"),
        "decision": _decided("b", "decision.record", "commit"),
        "update_unsure": _decided("c", "record.update", "ask", confidence=0.4),
        "delete": _decided("d", "record.delete", "ask"),
        "memory": _decided("e", "memory.store", "commit"),
        "update_pending": _pending("f", "record.update"),
        "email_pending": waiting_email(operator).actions.get(),
    }


def preview_post(operator_client, url, **params):
    return operator_client.post(url, approval_form(_preview="Preview", **params))


@pytest.mark.django_db
def test_preview_lists_exactly_the_actions_decided_differently_and_saves_nothing(
    operator_client, decided_and_pending
):
    response = preview_post(
        operator_client,
        add_url("approval"),
        name="Let record changes commit",
        param_effect="commit",
        param_action_kinds=["decision.record", "record.update"],
    )

    assert response.status_code == 200
    assert not response.context["adminform"].form.errors
    preview = response.context["preview"]
    changed = {row["action"].pk: row for row in preview["changed"]}
    assert set(changed) == {
        decided_and_pending["update_approved"].pk,
        decided_and_pending["update_pending"].pk,
    }
    pending = changed[decided_and_pending["update_pending"].pk]
    assert pending["pending"] is True
    assert pending["task"] == decided_and_pending["update_pending"].task
    assert pending["before"] == {
        "decision": "ask",
        "reason": "No policy lets record.update commit without the operator.",
    }
    assert pending["after"] == {
        "decision": "commit",
        "reason": "Allowed by policy 'Let record changes commit'.",
    }
    # The memory write is not decided again; the email waiting for the operator is.
    assert preview["counts"] == {
        "checked": 6,
        "pending": 2,
        "decided": 4,
        "changed": 2,
        "to_commit": 2,
        "to_ask": 0,
        "to_deny": 0,
    }
    assert "Preview — nothing has been saved" in response.content.decode()
    assert Policy.objects.count() == DEFAULT_POLICIES
    assert ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING).count() == 2


@pytest.mark.django_db
def test_preview_decides_at_most_limit_pending_and_limit_decided_actions(decided_and_pending):
    draft = Policy(
        name="Draft", kind="approval", params={"effect": "commit", "action_kinds": ["record.update"]}
    )

    preview = policy_preview(draft=draft, limit=1)

    assert (preview["counts"]["pending"], preview["counts"]["decided"]) == (1, 1)
    # Newest first: the email waiting for the operator and the record deletion.
    assert preview["counts"]["changed"] == 0
    assert draft.pk is None and Policy.objects.count() == DEFAULT_POLICIES


@pytest.mark.django_db
def test_preview_of_an_edit_replaces_the_saved_version(operator_client, decided_and_pending):
    unsure = named("Ask when an agent is unsure")
    operator_client.post(
        add_url("approval"),
        approval_form(
            name="Record updates commit", param_effect="commit", param_action_kinds=["record.update"]
        ),
    )
    saved = named("Record updates commit")

    # Disabling the "unsure" policy would let the unsure update commit too.
    response = operator_client.post(
        change_url(unsure),
        {
            "name": unsure.name,
            "description": "",
            "param_confidence_below": "0.6",
            "param_effect": "ask",
            "_preview": "1",
        },
    )

    changed = [row["action"].pk for row in response.context["preview"]["changed"]]
    assert changed == [decided_and_pending["update_unsure"].pk]
    assert response.context["preview"]["changed"][0]["after"]["decision"] == "commit"
    unsure.refresh_from_db()
    assert (unsure.enabled, unsure.version) == (True, 1)
    assert saved.version == 1


@pytest.mark.django_db
def test_preview_with_a_bad_parameter_shows_the_error_and_no_preview(operator_client):
    response = preview_post(
        operator_client, add_url("approval"), param_effect="commit", param_effects=["delete"]
    )

    assert response.context["adminform"].form.non_field_errors()[0].startswith("Hard floor")
    assert "preview" not in response.context
    assert Policy.objects.count() == DEFAULT_POLICIES


@pytest.mark.django_db
def test_budget_preview_compares_this_months_spend_with_the_new_cap(operator_client):
    LLMCall.objects.create(model="m", tier="fast", prompt_hash="0" * 64, cost=Decimal("12.5"))
    budget = named("Monthly LLM budget")

    response = operator_client.post(
        change_url(budget),
        {
            "name": budget.name,
            "enabled": "on",
            "param_scope": "workspace",
            "param_monthly_cap": "10",
            "param_critical": "rules",
            "_preview": "1",
        },
    )

    preview = response.context["preview"]
    assert (preview["spent"], preview["cap"], preview["saved_cap"], preview["reached"]) == (
        Decimal("12.5"),
        Decimal("10"),
        Decimal("20.00"),
        True,
    )
    assert "The cap of 10.00 USD is reached now" in " ".join(preview["summary"])
    budget.refresh_from_db()
    assert budget.params["monthly_cap"] == "20.00"


@pytest.mark.django_db
def test_retention_preview_counts_what_would_be_deleted_now(operator_client):
    now = timezone.now()
    for days in (3, 10, 40):
        MemoryItem.objects.create(
            tier="session",
            kind="note",
            text=f"{days}",
            content_hash=f"{days}",
            created_at=now - dt.timedelta(days=days),
        )
    session = named("Session memory: 7 days")

    response = operator_client.post(
        change_url(session),
        {"name": session.name, "enabled": "on", "param_tier": "session", "param_days": "2", "_preview": "1"},
    )

    preview = response.context["preview"]
    assert (preview["due_now"], preview["due_after"]) == (2, 3)
    assert MemoryItem.objects.count() == 3


@pytest.mark.django_db
def test_autonomy_preview_lists_the_streaks_that_meet_the_new_n(operator_client, operator):
    for key in ("s1", "s2", "s3"):
        action = _pending(key, "record.update")
        ApprovalRequest.objects.filter(action=action).update(
            status=ApprovalRequest.Status.APPROVED, decided_at=timezone.now()
        )
    autonomy = named("Suggest autonomy after 5 clean approvals")

    response = operator_client.post(
        change_url(autonomy), {"name": autonomy.name, "enabled": "on", "param_after": "3", "_preview": "1"}
    )

    preview = response.context["preview"]
    assert preview["streaks"] == [
        {"agent": "echo", "kind": "record.update", "streak": 3, "meets": True, "meets_saved": False}
    ]
    assert (preview["after"], preview["saved_after"]) == (3, 5)


@pytest.mark.django_db
def test_the_reminder_levels_are_edited_as_lines(operator_client):
    policy = Policy.objects.get(kind=Policy.Kind.REMINDER)
    page = operator_client.get(change_url(policy)).content.decode()
    assert "friendly, 3, payment_reminder\nfirm, 14, payment_reminder_firm" in page

    form = {
        "name": policy.name,
        "enabled": "on",
        "description": policy.description,
        "reason": "",
        "param_levels": "nudge, 2, payment_reminder\nfinal, 21, payment_reminder_final",
        "param_min_gap_days": "3",
        "param_working_days": ["0", "1", "2", "3", "4", "5"],
        "param_working_hours": "08:00-18:00",
    }
    response = operator_client.post(change_url(policy), form)

    assert response.status_code == 302
    policy.refresh_from_db()
    assert [(level["name"], level["after_days"]) for level in policy.params["levels"]] == [
        ("nudge", 2),
        ("final", 21),
    ]
    assert (policy.params["working_days"], policy.params["working_hours"]) == (
        [0, 1, 2, 3, 4, 5],
        "08:00-18:00",
    )

    refused = operator_client.post(change_url(policy), {**form, "param_levels": "nudge, soon"})
    assert refused.status_code == 200 and "Line 1: write" in refused.content.decode()
    policy.refresh_from_db()
    assert policy.params["levels"][0]["name"] == "nudge"
