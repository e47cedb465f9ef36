"""The task API: submit (idempotent), list, read with the whole record, retry, discard, cancel, approve and
reject; refusals are 422 with a message, unknown ids 404, and reads cost a fixed number of queries."""

from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client as HttpClient

from core import services as core_services
from ledger import services
from ledger.models import Action, LLMCall, Task, TaskEvent
from tests.factories import UserFactory
from tests.ledger.policies import allow, written_to
from tests.ledger.states import EMAIL, dead_letter, waiting_email


@pytest.fixture
def api(operator):
    """An HTTP client carrying the operator's API token."""
    _, raw = core_services.api_token_create(user=operator, name="tests")
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


def post(api, path, data=None):
    return api.post(path, data if data is not None else {}, content_type="application/json")


def error_fields(response) -> dict:
    """{location after "payload": message} of a 422 answer."""
    assert response.status_code == 422, response.content
    return {".".join(map(str, error["loc"][2:])): error["msg"] for error in response.json()["detail"]}


def submit(api, key="k1", workflow="email.send", data=None, **extra):
    return post(
        api,
        "/api/v1/tasks",
        {"workflow": workflow, "input": EMAIL if data is None else data, "idempotency_key": key, **extra},
    )


@pytest.mark.django_db
def test_submitting_twice_with_one_key_gives_one_task_201_then_200(api, operator):
    first = submit(api, key="msg-1@client")
    again = submit(api, key="msg-1@client", data={**EMAIL, "subject": "Another"})

    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["created"] is True and again.json()["created"] is False
    assert first.json()["id"] == again.json()["id"]
    body = first.json()
    assert (body["workflow"], body["status"], body["mode"], body["requested_by"], body["cost"]) == (
        "email.send",
        "queued",
        "live",
        "operator",
        "0.000000",
    )
    task = Task.objects.get()
    assert (task.requested_by_user, task.input["subject"]) == (operator, "Your proposal")


@pytest.mark.django_db
def test_a_submitted_task_is_queued_after_commit(api, django_capture_on_commit_callbacks):
    from django_q.models import OrmQ

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert submit(api, workflow="ledger.ping", data={"payload": {"n": 1}}).status_code == 201
    assert len(callbacks) == 1
    assert OrmQ.objects.count() == 1


@pytest.mark.django_db
def test_shadow_mode_can_be_asked_for(api):
    response = submit(api, mode="shadow")
    assert response.status_code == 201 and Task.objects.get().mode == "shadow"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"workflow": "no.such.workflow"}, "workflow", "No workflow named 'no.such.workflow'"),
        ({"input": {**EMAIL, "to": ["not an address"]}}, "input.to.0", "not a valid email address"),
        ({"input": {**EMAIL, "to": []}}, "input.to", "at least 1 item"),
        ({"idempotency_key": "   "}, "idempotency_key", "Every trigger carries a key"),
        ({"mode": "dry-run"}, "mode", "Input should be 'live' or 'shadow'"),
        ({"colour": "blue"}, "colour", "Extra inputs are not permitted"),
        ({"idempotency_key": "k" * 256}, "idempotency_key", "at most 255 characters"),
    ],
)
def test_bad_submissions_are_422_per_field_and_create_nothing(api, payload, field, message):
    fields = error_fields(
        post(
            api,
            "/api/v1/tasks",
            {"workflow": "email.send", "input": EMAIL, "idempotency_key": "k", **payload},
        )
    )
    assert message in fields[field], fields
    assert not Task.objects.exists() and not TaskEvent.objects.exists()


@pytest.mark.django_db
def test_without_credentials_the_task_api_answers_401_and_creates_nothing(client):
    assert client.get("/api/v1/tasks").status_code == 401
    assert submit(client).status_code == 401
    assert not Task.objects.exists()


@pytest.mark.django_db
def test_a_non_staff_token_is_403(operator):
    _, raw = core_services.api_token_create(user=UserFactory(username="guest"), name="guest")
    guest = HttpClient(headers={"Authorization": f"Bearer {raw}"})
    assert submit(guest).status_code == 403
    assert not Task.objects.exists()


# --- Read -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_reading_a_task_gives_its_timeline_actions_email_llm_calls_and_cost(api, operator, settings):
    allow("email.send")
    written_to("client@example.com")
    task = services.task_submit(
        workflow="email.send", input=EMAIL, idempotency_key="k", requested_by=operator
    )
    assert services.task_execute(task_id=task.pk) == "succeeded"
    LLMCall.objects.create(
        task=task,
        step="compose",
        model="gpt-test-mini",
        tier="fast",
        prompt_hash="0" * 64,
        cost=Decimal("0.004125"),
    )
    Task.objects.filter(pk=task.pk).update(cost=Decimal("0.004125"))

    response = api.get(f"/api/v1/tasks/{task.pk}")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["cost"], body["attempts"]) == ("succeeded", "0.004125", 1)
    assert [event["kind"] for event in body["events"]][:3] == ["created", "claimed", "step_started"]
    assert body["events"][-1]["kind"] == "succeeded"
    [action] = body["actions"]
    assert (action["kind"], action["status"], action["decision"]) == ("email.send", "committed", "commit")
    assert action["outbox_email"]["status"] == "sent"
    assert action["outbox_email"]["message_id"] == mail.outbox[0].extra_headers["Message-ID"]
    [call] = body["llm_calls"]
    assert (call["model"], call["cost"], call["tier"]) == ("gpt-test-mini", "0.004125", "fast")


@pytest.mark.django_db
def test_unknown_or_malformed_task_ids_are_404(api):
    assert api.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000").status_code == 404
    assert post(api, "/api/v1/tasks/00000000-0000-0000-0000-000000000000/retry").status_code == 404
    assert post(api, "/api/v1/actions/999999/approve").status_code == 404
    assert api.get("/api/v1/tasks/not-a-uuid").status_code == 422


@pytest.mark.django_db
def test_the_list_is_newest_first_paginated_and_filtered(api, operator):
    waiting_email(operator, key="a")
    dead = dead_letter(key="b")
    services.task_submit(
        workflow="ledger.ping", input={}, idempotency_key="c", requested_by="schedule:nightly"
    )

    everything = api.get("/api/v1/tasks").json()
    dead_only = api.get("/api/v1/tasks", {"status": "dead"}).json()
    pings = api.get("/api/v1/tasks", {"workflow": "ledger.ping"}).json()
    page = api.get("/api/v1/tasks", {"limit": 1, "offset": 1}).json()

    assert everything["count"] == 3
    assert [item["idempotency_key"] for item in everything["items"]] == ["c", "b", "a"]
    assert everything["items"][0]["requested_by"] == "schedule:nightly"
    assert [item["id"] for item in dead_only["items"]] == [str(dead.pk)]
    assert [item["idempotency_key"] for item in pings["items"]] == ["c"]
    assert (page["count"], [item["idempotency_key"] for item in page["items"]]) == (3, ["b"])
    assert error_fields(api.get("/api/v1/tasks", {"status": "lost"}))


@pytest.mark.django_db
def test_reads_cost_a_fixed_number_of_queries(api, operator, django_assert_num_queries):
    task = waiting_email(operator)

    def grow(n):
        for i in range(n):
            services.task_event(task=task, kind="step_started", message=f"event {i}")
            LLMCall.objects.create(task=task, model="m", tier="fast", prompt_hash=f"{i:064d}")
            services.task_submit(
                workflow="ledger.ping", input={}, idempotency_key=f"{n}-{i}", requested_by=operator
            )

    grow(3)
    api.get("/api/v1/tasks")  # the token's first use of the minute records it; later ones do not
    # token (with its user); task, events, actions (with outbox emails and deciders), LLM calls
    with django_assert_num_queries(5):
        assert api.get(f"/api/v1/tasks/{task.pk}").status_code == 200
    # token; count; page (with requesting users)
    with django_assert_num_queries(3):
        assert api.get("/api/v1/tasks").json()["count"] == 4

    grow(30)
    with django_assert_num_queries(5):
        assert len(api.get(f"/api/v1/tasks/{task.pk}").json()["llm_calls"]) == 33
    with django_assert_num_queries(3):
        assert api.get("/api/v1/tasks").json()["count"] == 34


# --- Retry, discard, cancel -------------------------------------------------------------------


@pytest.mark.django_db
def test_retry_requeues_a_dead_letter_and_refuses_other_states(api, operator):
    dead = dead_letter()
    waiting = waiting_email(operator)

    retried = post(api, f"/api/v1/tasks/{dead.pk}/retry")
    again = post(api, f"/api/v1/tasks/{dead.pk}/retry")
    refused = post(api, f"/api/v1/tasks/{waiting.pk}/retry")

    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("queued", 0)
    assert error_fields(again) == {"status": "Only dead-lettered tasks can be retried; this one is queued."}
    assert error_fields(refused)["status"].endswith("this one is waiting_approval.")
    waiting.refresh_from_db()
    assert waiting.status == "waiting_approval"
    assert list(dead.events.values_list("kind", flat=True)).count("requeued") == 1


@pytest.mark.django_db
def test_discard_stops_a_dead_letter_only(api, operator):
    dead = dead_letter()
    waiting = waiting_email(operator)

    discarded = post(api, f"/api/v1/tasks/{dead.pk}/discard", {"reason": "duplicate of another"})
    refused = post(api, f"/api/v1/tasks/{waiting.pk}/discard")

    assert discarded.status_code == 200 and discarded.json()["status"] == "cancelled"
    assert dead.events.last().message == "duplicate of another"
    assert error_fields(refused) == {
        "status": "Only dead-lettered tasks can be discarded; this one is waiting_approval."
    }
    waiting.refresh_from_db()
    assert waiting.status == "waiting_approval" and waiting.actions.get().status == "proposed"


@pytest.mark.django_db
def test_cancel_stops_a_waiting_task_and_refuses_a_finished_one(api, operator):
    waiting = waiting_email(operator)

    cancelled = post(api, f"/api/v1/tasks/{waiting.pk}/cancel", {"reason": "client called"})
    again = post(api, f"/api/v1/tasks/{waiting.pk}/cancel")

    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert waiting.actions.get().status == "rejected"
    assert "status" in error_fields(again)
    assert services.task_execute(task_id=waiting.pk) == "not-claimable"
    assert mail.outbox == []


# --- Approve and reject -----------------------------------------------------------------------


@pytest.mark.django_db
def test_approving_resumes_the_task_which_then_sends_the_email_once(api, operator):
    task = waiting_email(operator)
    action = task.actions.get()

    response = post(api, f"/api/v1/actions/{action.pk}/approve")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decided_by"]) == ("approved", "operator")
    task.refresh_from_db()
    assert task.status == "queued"
    assert services.task_execute(task_id=task.pk) == "succeeded"
    assert [message.to for message in mail.outbox] == [["client@example.com"]]
    detail = api.get(f"/api/v1/tasks/{task.pk}").json()
    assert detail["actions"][0]["status"] == "committed"
    assert detail["actions"][0]["outbox_email"]["status"] == "sent"
    assert error_fields(post(api, f"/api/v1/actions/{action.pk}/approve")) == {
        "status": "This action is already committed."
    }


@pytest.mark.django_db
def test_rejecting_needs_a_reason_and_the_email_is_never_sent(api, operator):
    task = waiting_email(operator)
    action = task.actions.get()

    missing = post(api, f"/api/v1/actions/{action.pk}/reject")
    assert "reason" in error_fields(missing)
    assert Action.objects.get(pk=action.pk).status == "proposed"

    response = post(api, f"/api/v1/actions/{action.pk}/reject", {"reason": "Wrong client"})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision_reason"]) == ("rejected", "Wrong client")
    assert services.task_execute(task_id=task.pk) == "succeeded"
    assert mail.outbox == []
