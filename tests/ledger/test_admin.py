"""The ledger's back office: read-only tasks and their records, retry / discard / cancel and approve / reject
through the conductor's services (refusals are messages, nothing changes), the price table with history,
and the registry of agents and workflows."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from ledger import services
from ledger.models import Action, LLMCall, ModelPrice, OutboxEmail, Task, TaskEvent
from tests.factories import UserFactory
from tests.ledger.policies import allow, written_to
from tests.ledger.states import EMAIL, waiting_email
from tests.ledger.states import dead_letter as _dead_letter

LEDGER_MODELS = [Task, TaskEvent, Action, OutboxEmail, LLMCall, ModelPrice]
LEDGER_MODEL_IDS = [model._meta.model_name for model in LEDGER_MODELS]


def dead_letter(key="dead"):
    # Requested by a connector, so the changelist shows a requester that is not a user.
    return _dead_letter(key, requested_by="connector:imap")


def url(model, view, *args):
    return reverse(f"admin:ledger_{model._meta.model_name}_{view}", args=args)


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(operator_client, model, action, records, **extra):
    """Run an admin action and follow its redirect, so the page shows (and uses up) its messages."""
    return operator_client.post(
        url(model, "changelist"),
        {"action": action, "_selected_action": [r.pk for r in records], **extra},
        follow=True,
    )


@pytest.fixture
def records(operator, settings):
    """A sent email task (with an outbox email and an LLM call), a waiting one, a dead letter, a price."""
    email_policy = allow("email.send")
    written_to(*EMAIL["to"])
    sent = services.task_submit(
        workflow="email.send", input=EMAIL, idempotency_key="sent", requested_by=operator
    )
    assert services.task_execute(task_id=sent.pk) == "succeeded"
    email_policy.enabled = False
    email_policy.save(update_fields=["enabled"])
    LLMCall.objects.create(
        task=sent,
        step="compose",
        model="gpt-test-mini",
        tier="fast",
        prompt_hash="0" * 64,
        cost=Decimal("0.004125"),
    )
    ModelPrice.objects.create(
        model="gpt-test-mini", input_per_million="0.150000", output_per_million="0.600000"
    )
    return {"sent": sent, "waiting": waiting_email(operator), "dead": dead_letter()}


# --- Pages ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", LEDGER_MODELS, ids=LEDGER_MODEL_IDS)
def test_every_ledger_admin_page_renders_for_the_operator(operator_client, records, model):
    changelist = operator_client.get(url(model, "changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == model.objects.count() > 0
    obj = model.objects.first()
    assert operator_client.get(url(model, "change", obj.pk)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("model", LEDGER_MODELS, ids=LEDGER_MODEL_IDS)
def test_ledger_admin_pages_send_anonymous_visitors_to_the_login(client, model):
    page = url(model, "changelist")
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/accounts/login/?next={page}")


@pytest.mark.django_db
def test_the_task_list_shows_the_columns_the_operator_needs(operator_client, records):
    html = operator_client.get(url(Task, "changelist")).content.decode()
    sent = records["sent"]
    for expected in (
        str(sent.pk)[:8],
        "email.send",
        "Dead letter",
        "1/5",
        "1/1",
        "operator",
        "connector:imap",
    ):
        assert expected in html, expected


@pytest.mark.django_db
def test_tasks_are_found_by_the_start_of_their_id_or_their_key(operator_client, records):
    dead = records["dead"]
    by_id = operator_client.get(url(Task, "changelist"), {"q": str(dead.pk)[:8]})
    by_key = operator_client.get(url(Task, "changelist"), {"q": "sent"})
    assert [task.pk for task in by_id.context["cl"].result_list] == [dead.pk]
    assert [task.pk for task in by_key.context["cl"].result_list] == [records["sent"].pk]


@pytest.mark.django_db
def test_the_task_view_shows_its_timeline_actions_and_llm_calls_read_only(operator_client, records):
    sent = records["sent"]
    response = operator_client.get(url(Task, "change", sent.pk))
    html = response.content.decode()

    assert "Step started" in html and "Delivered" in html
    assert "Email client@example.com: Your proposal" in html
    assert "gpt-test-mini" in html
    assert reverse("ledger:task", args=[sent.pk]) in html
    assert 'name="_save"' not in html, "nothing to save: the conductor alone writes tasks"


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Task, TaskEvent, Action, OutboxEmail, LLMCall], ids=lambda m: m.__name__)
def test_conductor_records_cannot_be_added_changed_or_deleted_here(operator_client, records, model):
    obj = model.objects.first()
    assert operator_client.get(url(model, "add")).status_code == 403
    assert operator_client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert operator_client.post(url(model, "change", obj.pk), {}).status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


@pytest.mark.django_db
def test_the_task_changelist_queries_do_not_grow_with_rows(
    operator_client, operator, django_assert_num_queries
):
    for n in range(3):
        services.task_submit(workflow="ledger.ping", input={}, idempotency_key=f"a{n}", requested_by=operator)
    # session, user, count, count (unfiltered), the workspace (admin header), page, date hierarchy (2),
    # workflow filter values
    with django_assert_num_queries(9):
        assert operator_client.get(url(Task, "changelist")).context["cl"].result_count == 3
    for n in range(20):
        services.task_submit(workflow="ledger.ping", input={}, idempotency_key=f"b{n}", requested_by=operator)
    with django_assert_num_queries(9):
        assert operator_client.get(url(Task, "changelist")).context["cl"].result_count == 23


@pytest.mark.django_db
def test_the_task_view_queries_do_not_grow_with_its_record(
    operator_client, operator, django_assert_num_queries
):
    from tests.ledger.test_task_page import grow

    task = waiting_email(operator)
    page = url(Task, "change", task.pk)
    grow(task, 3)
    operator_client.get(page)  # the first visit fills the content-type cache
    # session, user, task, actions (with deciders), LLM calls, events, the workspace (admin header),
    # the requesting user
    with django_assert_num_queries(8):
        assert operator_client.get(page).status_code == 200
    grow(task, 27)
    with django_assert_num_queries(8):
        assert operator_client.get(page).status_code == 200


# --- Retry, discard, cancel -----------------------------------------------------------------------


@pytest.mark.django_db
def test_retrying_dead_letters_requeues_them(operator_client, records):
    dead = records["dead"]

    response = act(operator_client, Task, "retry_dead_letters", [dead])

    dead.refresh_from_db()
    assert (dead.status, dead.attempts) == ("queued", 0)
    assert dead.events.last().kind == "requeued"
    assert messages_of(response) == [f"Back in the queue: {dead}."]


@pytest.mark.django_db
def test_retrying_a_task_that_is_not_dead_shows_why_and_changes_nothing(operator_client, records):
    waiting, dead = records["waiting"], records["dead"]
    events = TaskEvent.objects.filter(task=waiting).count()

    response = act(operator_client, Task, "retry_dead_letters", [waiting, dead])

    assert response.status_code == 200
    waiting.refresh_from_db()
    dead.refresh_from_db()
    assert waiting.status == "waiting_approval" and TaskEvent.objects.filter(task=waiting).count() == events
    assert dead.status == "queued"
    assert messages_of(response) == [
        f"{waiting}: Only dead-lettered tasks can be retried; this one is waiting_approval.",
        f"Back in the queue: {dead}.",
    ]


@pytest.mark.django_db
def test_discarding_a_dead_letter_and_cancelling_a_waiting_task(operator_client, records):
    waiting, dead = records["waiting"], records["dead"]

    response = act(operator_client, Task, "discard_or_cancel", [waiting, dead])

    waiting.refresh_from_db()
    dead.refresh_from_db()
    assert (waiting.status, dead.status) == ("cancelled", "cancelled")
    assert waiting.actions.get().status == "rejected"
    assert dead.events.last().kind == "cancelled"
    assert len(messages_of(response)) == 1 and messages_of(response)[0].startswith("Stopped: ")


@pytest.mark.django_db
def test_cancelling_a_finished_task_shows_why_and_changes_nothing(operator_client, records):
    sent = records["sent"]
    events = sent.events.count()

    response = act(operator_client, Task, "discard_or_cancel", [sent])

    sent.refresh_from_db()
    assert sent.status == "succeeded" and sent.events.count() == events
    assert messages_of(response) == [f"{sent}: A succeeded task cannot be cancelled."]


# --- Approve, reject ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_approving_an_action_resumes_its_task(operator_client, operator, records):
    waiting = records["waiting"]
    action = waiting.actions.get()

    response = act(operator_client, Action, "approve", [action])

    action.refresh_from_db()
    waiting.refresh_from_db()
    assert (action.status, action.decided_by) == ("approved", operator)
    assert waiting.status == "queued"
    assert messages_of(response) == ["Approved: Email client@example.com: Your proposal."]
    assert services.task_execute(task_id=waiting.pk) == "succeeded"
    assert len(mail.outbox) == 2  # the auto-committed one of the fixture, and this one


@pytest.mark.django_db
def test_rejecting_asks_for_a_reason_first(operator_client, records):
    action = records["waiting"].actions.get()

    asked = operator_client.post(
        url(Action, "changelist"), {"action": "reject", "_selected_action": [action.pk]}
    )
    blank = operator_client.post(
        url(Action, "changelist"),
        {"action": "reject", "_selected_action": [action.pk], "confirm": "yes", "reason": ""},
    )
    action.refresh_from_db()
    assert asked.status_code == 200 and b"Reject 1 action" in asked.content
    assert blank.status_code == 200 and blank.context["form"].errors == {
        "reason": ["This field is required."]
    }
    assert action.status == "proposed"

    response = act(operator_client, Action, "reject", [action], confirm="yes", reason="Wrong client")

    action.refresh_from_db()
    assert (action.status, action.decision_reason) == ("rejected", "Wrong client")
    assert messages_of(response) == ["Rejected: Email client@example.com: Your proposal."]


@pytest.mark.django_db
def test_deciding_an_action_twice_shows_why(operator_client, records):
    committed = records["sent"].actions.get()

    response = act(operator_client, Action, "approve", [committed])

    committed.refresh_from_db()
    assert committed.status == "committed"
    assert messages_of(response) == [f"{committed}: This action is already committed."]


@pytest.mark.django_db
def test_a_staff_user_without_change_permission_gets_no_actions(client, records):
    viewer = UserFactory(username="viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    view_task = Permission.objects.get(codename="view_task", content_type__app_label="ledger")
    viewer.user_permissions.add(view_task)
    client.force_login(viewer)
    dead = records["dead"]

    response = client.get(url(Task, "changelist"))
    posted = client.post(
        url(Task, "changelist"), {"action": "retry_dead_letters", "_selected_action": [dead.pk]}
    )

    assert response.status_code == 200 and "retry_dead_letters" not in response.content.decode()
    assert posted.status_code == 200, "an action the user may not run is not offered, so nothing runs"
    dead.refresh_from_db()
    assert dead.status == "dead"


# --- Prices -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_editing_a_price_keeps_history_naming_the_operator(operator_client, operator):
    price = ModelPrice.objects.create(
        model="gpt-test-mini", input_per_million="0.15", output_per_million="0.6"
    )

    response = operator_client.post(
        url(ModelPrice, "change", price.pk),
        {
            "model": "gpt-test-mini",
            "input_per_million": "0.20",
            "output_per_million": "0.80",
            "currency": "usd",
            "notes": "price rise in May",
        },
    )

    assert response.status_code == 302
    price.refresh_from_db()
    assert (price.input_per_million, price.output_per_million, price.currency) == (
        Decimal("0.200000"),
        Decimal("0.800000"),
        "USD",
    )
    latest = price.history.first()
    assert (latest.history_type, latest.history_user) == ("~", operator)
    assert operator_client.get(url(ModelPrice, "history", price.pk)).status_code == 200


@pytest.mark.django_db
def test_a_negative_price_or_an_unknown_currency_is_refused_on_the_form(operator_client):
    response = operator_client.post(
        url(ModelPrice, "add"),
        {"model": "m", "input_per_million": "-1", "output_per_million": "0.5", "currency": "XYZ"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {
        "input_per_million": ["A price cannot be negative."],
        "currency": ["'XYZ' is not an ISO 4217 currency code."],
    }
    assert not ModelPrice.objects.exists()


# --- The registry ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_registry_lists_workflows_with_their_steps_and_agents_with_their_schemas(operator_client):
    from agents import kernel

    response = operator_client.get(reverse("admin:ledger_registry"))

    assert response.status_code == 200
    html = response.content.decode()
    names = [workflow["name"] for workflow in response.context["workflows"]]
    assert {"email.send", "ledger.ping", "report.daily_cost"} <= set(names)
    assert names == [workflow.name for workflow in kernel.workflows_all()]
    email = next(workflow for workflow in response.context["workflows"] if workflow["name"] == "email.send")
    assert email["steps"] == [{"name": "compose", "agent": "mail_composer", "version": "1"}]
    to = next(field for field in email["input_fields"] if field["name"] == "to")
    assert (to["type"], to["required"]) == ("list[string (email)]", True)
    assert "Compose an email" in html and "mail_composer" in html and "v1" in html
    assert [agent["name"] for agent in response.context["agents"]] == [a.name for a in kernel.agents_all()]


@pytest.mark.django_db
def test_the_registry_is_linked_from_the_admin_index(operator_client):
    html = operator_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:ledger_registry") in html and "Agents and workflows" in html
    assert reverse("admin:ledger_registry") in operator_client.get("/admin/ledger/").content.decode()


@pytest.mark.django_db
def test_the_registry_is_for_staff_only(client):
    page = reverse("admin:ledger_registry")
    anonymous = client.get(page)
    client.force_login(UserFactory(username="guest"))
    guest = client.get(page)

    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert guest.status_code == 302 and guest["Location"].startswith("/admin/login/")


def test_the_registry_page_is_registered_on_the_default_site():
    assert reverse("admin:ledger_registry") == "/admin/ledger/registry/"
    assert admin.site.get_urls()[0].name == "ledger_registry"
