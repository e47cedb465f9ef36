"""The operator's task pages: the list, one task's whole record, the buttons, staff only, and a fixed number
of queries however long the record is."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse

from ledger import services
from ledger.models import Action, LLMCall, OutboxEmail, Task
from tests.factories import UserFactory
from tests.ledger.policies import allow, written_to
from tests.ledger.states import dead_letter, waiting_email


def submit(workflow="ledger.ping", key="k1", data=None, **kwargs):
    return services.task_submit(
        workflow=workflow,
        input=data if data is not None else {"payload": {"n": 1}},
        idempotency_key=key,
        requested_by=kwargs.pop("requested_by", "system:test"),
        **kwargs,
    )


def email_input(**extra):
    return {"to": ["client@example.com"], "subject": "Your proposal", "body": "Hello,\n\nAttached.", **extra}


def record_llm_call(task, *, n=0, cost="0.004125"):
    return LLMCall.objects.create(
        task=task,
        step="compose",
        agent="mail_composer",
        model="gpt-test-mini",
        tier="fast",
        prompt_hash=f"{n:064d}",
        tokens_in=1200 + n,
        tokens_out=300,
        cost=Decimal(cost),
        latency_ms=840,
        cache_hit=n % 2 == 1,
    )


def grow(task, n):
    """Give the task n more timeline events, actions (each with an outbox email) and LLM calls."""
    start = task.events.count()
    for i in range(start, start + n):
        services.task_event(task=task, kind="step_started", step=f"s{i}", message=f"event {i}")
        action = Action.objects.create(
            task=task,
            step=f"s{i}",
            kind="email.send",
            payload={"to": ["a@example.com"]},
            summary=f"Email {i}",
            idempotency_key=f"{task.pk}:grow:{i}",
            status="committed",
            decided_by=task.requested_by_user,
        )
        OutboxEmail.objects.create(
            action=action,
            message_id=f"<m{i}@test>",
            from_email="w@test",
            to=["a@example.com"],
            subject="s",
            body_text="b",
        )
        record_llm_call(task, n=i)


def page(client, task):
    return client.get(reverse("ledger:task", args=[task.pk]))


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Reading ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_task_page_shows_header_timeline_actions_outbox_and_llm_calls(
    operator_client, operator, settings
):
    allow("email.send")
    written_to("client@example.com")
    task = submit(workflow="email.send", data=email_input(), requested_by=operator)
    assert services.task_execute(task_id=task.pk) == "succeeded"
    record_llm_call(task)
    Task.objects.filter(pk=task.pk).update(cost=Decimal("0.004125"))
    email = OutboxEmail.objects.get()

    response = page(operator_client, task)

    assert response.status_code == 200
    html = response.content.decode()
    for expected in (
        "email.send",
        "Succeeded",
        "1 of 5",
        "0.004125 USD",
        "operator",
        # timeline
        "Created",
        "Claimed",
        "Step started",
        "Policy decision",
        "Committed",
        "Delivered",
        # the action, its decision and result, its outbox email
        "Email client@example.com: Your proposal",
        "Allowed by policy &#x27;test: allow email.send&#x27;.",
        "&lt;" + email.message_id[1:-1] + "&gt;",
        "Sent",
        # the LLM call
        "gpt-test-mini",
        "1200",
        "840 ms",
    ):
        assert expected in html, expected
    assert 'action="/tasks/' not in html, "a finished task offers no buttons"


@pytest.mark.django_db
def test_a_dead_letter_shows_its_error_with_the_traceback_folded_and_retry_and_discard(operator_client):
    task = dead_letter()

    html = page(operator_client, task).content.decode()

    assert "Dead letter" in html
    assert "No active action template" in html
    assert "<details><summary>Traceback</summary><pre>Traceback (most recent call last)" in html
    assert reverse("ledger:task_retry", args=[task.pk]) in html
    assert reverse("ledger:task_cancel", args=[task.pk]) in html and ">Discard<" in html


@pytest.mark.django_db
def test_the_list_shows_recent_tasks_and_filters_by_status(operator_client, operator):
    waiting = waiting_email(operator)
    dead = dead_letter()
    done = submit(key="ping")
    services.task_execute(task_id=done.pk)

    everything = operator_client.get(reverse("ledger:tasks")).content.decode()
    dead_only = operator_client.get(reverse("ledger:tasks"), {"status": "dead"}).content.decode()

    for task in (waiting, dead, done):
        assert reverse("ledger:task", args=[task.pk]) in everything
    assert reverse("ledger:task", args=[dead.pk]) in dead_only
    assert reverse("ledger:task", args=[waiting.pk]) not in dead_only
    assert reverse("ledger:task", args=[done.pk]) not in dead_only
    assert "Dead letter <span" in dead_only


@pytest.mark.django_db
def test_the_list_pages_at_50_newest_first_keeping_the_status_filter(operator_client):
    for n in range(51):
        submit(key=f"page:{n}")
    first = operator_client.get(reverse("ledger:tasks"), {"status": "queued"}).content.decode()
    older = operator_client.get(reverse("ledger:tasks"), {"status": "queued", "page": 2}).content.decode()
    unfiltered = operator_client.get(reverse("ledger:tasks")).content.decode()

    assert '<a href="?status=queued&amp;page=2">Older</a>' in first and "Newer" not in first
    assert "Page 1 of 2" in first and "Page 2 of 2" in older
    assert '<a href="?status=queued&amp;page=1">Newer</a>' in older and ">Older<" not in older
    assert '<a href="?page=2">Older</a>' in unfiltered


@pytest.mark.django_db
def test_task_pages_are_for_staff_only(client, operator):
    task = submit()
    UserFactory(username="guest")
    client.login(username="guest", password="correct horse battery staple")

    assert client.get(reverse("ledger:tasks")).status_code == 403
    assert page(client, task).status_code == 403
    assert client.post(reverse("ledger:task_cancel", args=[task.pk])).status_code == 403
    task.refresh_from_db()
    assert task.status == "queued"


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client):
    task = submit()
    response = page(client, task)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_an_unknown_task_is_404(operator_client):
    assert operator_client.get("/tasks/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert operator_client.get("/tasks/not-a-uuid/").status_code == 404


@pytest.mark.django_db
def test_the_task_page_costs_the_same_queries_with_3_or_30_of_everything(
    operator_client, operator, django_assert_num_queries
):
    task = waiting_email(operator)
    grow(task, 3)
    # session, user, task, events, actions (with outbox emails and deciders), LLM calls, memory recalls
    # (with their client and project), memory items written
    with django_assert_num_queries(10):  # one of them reads the open notices for the banner
        assert page(operator_client, task).status_code == 200

    grow(task, 27)
    with django_assert_num_queries(10):  # one of them reads the open notices for the banner
        response = page(operator_client, task)
    assert len(response.context["timeline"]) >= 30 and len(response.context["llm_calls"]) == 30
    assert len(response.context["actions"]) == 31


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_with_3_or_30_tasks(operator_client, django_assert_num_queries):
    for n in range(3):
        submit(key=f"few-{n}")
    # session, user, counts per status, lead times, page count, page
    with django_assert_num_queries(7):  # one of them reads the open notices for the banner
        assert len(operator_client.get(reverse("ledger:tasks")).context["rows"]) == 3
    for n in range(27):
        submit(key=f"many-{n}")
    with django_assert_num_queries(7):  # one of them reads the open notices for the banner
        assert len(operator_client.get(reverse("ledger:tasks")).context["rows"]) == 30


# --- Buttons --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_retry_puts_a_dead_letter_back_in_the_queue(operator_client):
    task = dead_letter()

    response = operator_client.post(reverse("ledger:task_retry", args=[task.pk]), follow=True)

    task.refresh_from_db()
    assert (task.status, task.attempts) == ("queued", 0)
    assert response.redirect_chain[-1][0] == reverse("ledger:task", args=[task.pk])
    assert "The task is back in the queue with a fresh set of attempts." in messages_of(response)


@pytest.mark.django_db
def test_retrying_a_task_that_is_not_dead_is_refused_with_a_message(operator_client, operator):
    task = waiting_email(operator)
    events = task.events.count()

    response = operator_client.post(reverse("ledger:task_retry", args=[task.pk]), follow=True)

    assert response.status_code == 200
    assert messages_of(response) == ["Only dead-lettered tasks can be retried; this one is waiting_approval."]
    task.refresh_from_db()
    assert task.status == "waiting_approval" and task.events.count() == events


@pytest.mark.django_db
def test_discarding_a_dead_letter_and_cancelling_a_waiting_task(operator_client, operator):
    dead = dead_letter()
    waiting = waiting_email(operator)

    discarded = operator_client.post(
        reverse("ledger:task_cancel", args=[dead.pk]), {"reason": "duplicate"}, follow=True
    )
    cancelled = operator_client.post(reverse("ledger:task_cancel", args=[waiting.pk]), follow=True)

    dead.refresh_from_db()
    waiting.refresh_from_db()
    assert dead.status == "cancelled" and dead.events.last().message == "duplicate"
    assert "The dead letter is discarded." in messages_of(discarded)
    assert waiting.status == "cancelled" and waiting.actions.get().status == "rejected"
    assert "The task is cancelled." in messages_of(cancelled)


@pytest.mark.django_db
def test_approving_from_the_page_resumes_the_task_and_the_email_goes_out(operator_client, operator):
    task = waiting_email(operator)
    action = task.actions.get()

    response = operator_client.post(reverse("ledger:action_approve", args=[action.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("ledger:task", args=[task.pk])
    assert messages_of(response) == ["Approved: Email client@example.com: Your proposal."]
    action.refresh_from_db()
    task.refresh_from_db()
    assert (action.status, action.decided_by) == ("approved", operator)
    assert task.status == "queued"
    assert services.task_execute(task_id=task.pk) == "succeeded"
    assert [message.subject for message in mail.outbox] == ["Your proposal"]


@pytest.mark.django_db
def test_rejecting_from_the_page_keeps_the_reason_and_deciding_twice_is_a_message(operator_client, operator):
    task = waiting_email(operator)
    action = task.actions.get()

    rejected = operator_client.post(
        reverse("ledger:action_reject", args=[action.pk]), {"reason": "Wrong client"}, follow=True
    )
    again = operator_client.post(reverse("ledger:action_approve", args=[action.pk]), follow=True)

    action.refresh_from_db()
    assert (action.status, action.decision_reason) == ("rejected", "Wrong client")
    assert messages_of(rejected) == ["Rejected: Email client@example.com: Your proposal."]
    assert messages_of(again) == ["This action is already rejected."]
    assert services.task_execute(task_id=task.pk) == "succeeded"
    assert mail.outbox == []


@pytest.mark.django_db
def test_buttons_only_accept_post(operator_client):
    task = dead_letter()
    assert operator_client.get(reverse("ledger:task_retry", args=[task.pk])).status_code == 405
    task.refresh_from_db()
    assert task.status == "dead"
