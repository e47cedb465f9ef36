"""The conductor on the real database: submit, claim, run, approve, commit, deliver, retry, replay."""

import datetime as dt
import random
import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from pydantic import BaseModel

from agents import kernel
from core.models import Decision
from ledger import commit, services
from ledger.models import Action, LLMCall, OutboxEmail, Task, TaskEvent
from ledger.schedules import schedules_ensure
from ledger.services import run as conductor
from tests.ledger.policies import allow, written_to


class NoteInput(BaseModel):
    title: str


class NoteOutput(BaseModel):
    title: str


@kernel.agent_register
class DecisionNoter(kernel.Agent):
    """Proposes recording a decision: a canonical change that the default policy commits by itself."""

    name = "test_decision_noter"
    version = "1"

    def run(self, ctx: kernel.AgentContext, input: NoteInput) -> kernel.AgentResult[NoteOutput]:  # noqa: A002
        if input.title == "untrustworthy":
            raise services.NeedsReview("the model's answer could not be validated")
        return kernel.AgentResult(
            output=NoteOutput(title=input.title),
            actions=[
                kernel.ProposedAction(kind="decision.record", payload={"title": input.title}, summary="note")
            ],
        )


kernel.workflow_register(
    kernel.Workflow(
        name="test.note",
        steps=(kernel.Step(name="note", agent=DecisionNoter.name),),
        input_schema=NoteInput,
        max_attempts=3,
    )
)


def submit(workflow="ledger.ping", key="k1", data=None, operator=None, **kwargs):
    return services.task_submit(
        workflow=workflow,
        input=data if data is not None else {"payload": {"n": 1}},
        idempotency_key=key,
        requested_by=operator or "system:test",
        **kwargs,
    )


def email_input(**extra):
    return {"to": ["Client@Example.com"], "subject": "Your proposal", "body": "Hello,\n\nAttached.", **extra}


def kinds(task):
    return list(task.events.order_by("id").values_list("kind", flat=True))


# --- Submit ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_key_gives_the_same_task(operator):
    first = submit(operator=operator)
    again = submit(operator=operator, data={"payload": {"n": 2}})
    assert again.pk == first.pk
    assert again.input == {"payload": {"n": 1}}
    assert Task.objects.count() == 1
    assert kinds(first) == ["created"]
    assert first.requested_by_user == operator and first.requested_by_kind == "user"


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_of_one_key_make_one_task():
    barrier = threading.Barrier(8)
    ids, errors = [], []

    def racer():
        try:
            barrier.wait(timeout=20)
            ids.append(submit(key="race").pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(set(ids)) == 1 and len(ids) == 8
    assert Task.objects.count() == 1
    assert TaskEvent.objects.filter(kind="created").count() == 1


@pytest.mark.django_db
def test_submit_refuses_unknown_workflows_bad_input_and_missing_keys():
    with pytest.raises(ValidationError) as caught:
        submit(workflow="no.such.workflow")
    assert "workflow" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        submit(workflow="email.send", data=email_input(to=["not an address"]))
    assert "input.to.0" in caught.value.message_dict
    with pytest.raises(ValidationError):
        submit(key="  ")
    with pytest.raises(ValidationError):
        services.task_submit(workflow="ledger.ping", input={}, idempotency_key="k", requested_by="nobody")
    assert not Task.objects.exists()


@pytest.mark.django_db
def test_a_task_is_queued_on_django_q2_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submit()
        assert OrmQ.objects.count() == 0
    assert len(callbacks) == 1
    callbacks[0]()
    assert OrmQ.objects.count() == 1


# --- Claim and run --------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_one_claim_wins():
    task = submit()
    first = services.task_claim(task_id=task.pk)
    second = services.task_claim(task_id=task.pk)
    assert first is not None and second is None
    task.refresh_from_db()
    assert (task.status, task.attempts, task.claim_token) == ("running", 1, first.token)
    assert kinds(task) == ["created", "claimed"]


@pytest.mark.django_db
def test_a_ping_runs_to_success_with_its_timeline():
    task = submit()
    assert services.task_execute(task_id=task.pk) == "succeeded"
    task.refresh_from_db()
    assert task.status == "succeeded" and task.finished_at is not None and task.lease_expires_at is None
    assert task.output == {"steps": {"echo": {"payload": {"n": 1}}}}
    assert kinds(task) == ["created", "claimed", "step_started", "step_finished", "succeeded"]
    assert services.task_execute(task_id=task.pk) == "not-claimable"
    assert kinds(task).count("claimed") == 1


@pytest.mark.django_db
def test_an_email_waits_for_the_operator_then_is_sent_once(operator):
    task = submit(workflow="email.send", data=email_input())
    assert services.task_execute(task_id=task.pk) == "waiting-approval"
    task.refresh_from_db()
    action = task.actions.get()
    assert (task.status, action.status, action.decision) == ("waiting_approval", "proposed", "ask")
    assert mail.outbox == [] and not OutboxEmail.objects.exists()

    services.action_approve(action=action, by=operator)
    task.refresh_from_db()
    assert task.status == "queued"
    assert services.task_execute(task_id=task.pk) == "succeeded"

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["client@example.com"] and sent.subject == "Your proposal"
    assert sent.extra_headers["Message-ID"] == commit.message_id_for(action.idempotency_key)
    outbox = OutboxEmail.objects.get()
    assert (outbox.status, outbox.attempts) == ("sent", 1)
    assert "approval_given" in kinds(task) and "delivered" in kinds(task)
    # Running the delivery again, or the task again, sends nothing more.
    from ledger.outbox import Delivery, outbox_deliver

    assert outbox_deliver(email_id=outbox.pk) is Delivery.NOTHING
    assert services.task_execute(task_id=task.pk) == "not-claimable"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_rejected_email_is_never_sent(operator):
    task = submit(workflow="email.send", data=email_input())
    services.task_execute(task_id=task.pk)
    services.action_reject(action=task.actions.get(), by=operator, reason="Wrong client")
    assert services.task_execute(task_id=task.pk) == "succeeded"
    assert task.actions.get().status == "rejected"
    assert mail.outbox == [] and not OutboxEmail.objects.exists()


@pytest.mark.django_db
def test_auto_committed_email_and_shadow_mode(settings):
    allow("email.send")
    written_to("client@example.com")
    live = submit(workflow="email.send", key="live", data=email_input())
    shadow = submit(workflow="email.send", key="shadow", data=email_input(subject="Shadow"), mode="shadow")
    assert services.task_execute(task_id=live.pk) == "succeeded"
    assert services.task_execute(task_id=shadow.pk) == "succeeded"
    assert [message.subject for message in mail.outbox] == ["Your proposal"]
    shadow_action = shadow.actions.get()
    assert shadow_action.status == "committed" and shadow_action.result == {
        "shadow": True,
        "would": "email.send",
    }
    assert OutboxEmail.objects.count() == 1


@pytest.mark.django_db
def test_a_committed_change_names_the_task_in_its_history():
    task = submit(workflow="test.note", data={"title": "Keep prices for 2027"})
    assert services.task_execute(task_id=task.pk) == "succeeded"
    decision = Decision.objects.get()
    record = decision.history.get()
    assert record.history_user is None
    assert record.history_change_reason == f"task {task.pk} (test.note)"
    assert task.actions.get().result == {"decision": decision.pk}


# --- Failures, retries, dead letters --------------------------------------------------------


def test_backoff_doubles_with_bounded_jitter(settings):
    settings.AIOS_TASK_RETRY_BASE_SECONDS = 30
    settings.AIOS_TASK_RETRY_MAX_SECONDS = 3600
    rng = random.Random(7)
    for attempt, base in [(1, 30), (2, 60), (3, 120), (4, 240), (8, 3600), (20, 3600)]:
        delays = [services.retry_delay(attempt=attempt, rng=rng).total_seconds() for _ in range(200)]
        assert base * 0.8 <= min(delays) and max(delays) <= base * 1.2
        assert max(delays) - min(delays) > base * 0.2, "jitter spreads retries"


@pytest.mark.django_db
def test_failures_back_off_then_dead_letter_then_the_operator_retries(operator, settings):
    settings.AIOS_TASK_RETRY_BASE_SECONDS = 30
    task = submit(workflow="email.send", data=email_input(template="missing-template"), max_attempts=3)
    before = timezone.now()
    assert services.task_execute(task_id=task.pk) == "failed"
    after = timezone.now()
    task.refresh_from_db()
    assert task.status == "retrying" and task.attempts == 1
    assert "missing-template" in task.last_error and "Traceback" in task.last_traceback
    # 30 s ± 20 % from the moment of the failure, which is somewhere between before and after.
    assert before + dt.timedelta(seconds=24) <= task.next_attempt_at <= after + dt.timedelta(seconds=36)
    assert services.task_execute(task_id=task.pk) == "not-claimable", "not before its time"

    for attempt in (2, 3):
        Task.objects.filter(pk=task.pk).update(next_attempt_at=timezone.now())
        assert services.task_execute(task_id=task.pk) == "failed"
        task.refresh_from_db()
        assert task.attempts == attempt
    assert task.status == "dead" and task.finished_at is not None
    assert kinds(task).count("failed") == 3
    assert kinds(task).count("retry_scheduled") == 2
    assert kinds(task)[-1] == "dead_lettered"

    services.task_retry(task=task, by=operator)
    task.refresh_from_db()
    assert (task.status, task.attempts) == ("queued", 0)
    assert kinds(task)[-1] == "requeued"
    with pytest.raises(ValidationError):
        services.task_retry(task=task, by=operator)


@pytest.mark.django_db
def test_needs_review_skips_the_retries():
    task = submit(workflow="test.note", data={"title": "untrustworthy"})
    assert services.task_execute(task_id=task.pk) == "failed"
    task.refresh_from_db()
    assert (task.status, task.attempts) == ("dead", 1)
    assert "NeedsReview" in task.last_error
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_discarding_a_dead_letter_and_cancelling(operator):
    dead = submit(workflow="test.note", key="dead", data={"title": "untrustworthy"})
    services.task_execute(task_id=dead.pk)
    services.task_cancel(task=dead, by=operator, reason="discard")
    dead.refresh_from_db()
    assert dead.status == "cancelled" and kinds(dead)[-1] == "cancelled"
    with pytest.raises(ValidationError):
        services.task_cancel(task=dead, by=operator)

    waiting = submit(workflow="email.send", key="waiting", data=email_input())
    services.task_execute(task_id=waiting.pk)
    services.task_cancel(task=waiting, by=operator)
    assert waiting.actions.get().status == "rejected"
    assert services.task_execute(task_id=waiting.pk) == "not-claimable"
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_worker_presumed_dead_can_no_longer_write(operator, settings):
    allow("email.send")
    written_to("client@example.com")
    task = submit(workflow="email.send", data=email_input())
    stale = services.task_claim(task_id=task.pk)
    Task.objects.filter(pk=task.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))

    assert services.ledger_sweep()["lease_expired"] == 1
    task.refresh_from_db()
    assert task.status == "retrying" and "lease expired" in task.last_error
    assert "lease_expired" in kinds(task)
    assert services.task_execute(task_id=task.pk) == "succeeded"

    # The old worker wakes up and carries on: every write it tries is refused.
    with pytest.raises(services.ClaimLost):
        conductor._attempt(stale)
    assert len(mail.outbox) == 1
    assert OutboxEmail.objects.count() == 1 and Action.objects.count() == 1


@pytest.mark.django_db
def test_the_sweeper_requeues_due_retries_and_stale_queued_tasks(settings):
    due = submit(key="due")
    Task.objects.filter(pk=due.pk).update(status="running")
    Task.objects.filter(pk=due.pk).update(status="failed")
    Task.objects.filter(pk=due.pk).update(status="retrying", next_attempt_at=timezone.now())
    later = submit(key="later")
    Task.objects.filter(pk=later.pk).update(status="running")
    Task.objects.filter(pk=later.pk).update(status="failed")
    Task.objects.filter(pk=later.pk).update(
        status="retrying", next_attempt_at=timezone.now() + dt.timedelta(minutes=5)
    )
    OrmQ.objects.all().delete()
    assert services.ledger_sweep() == {"lease_expired": 0, "enqueued": 1}
    assert OrmQ.objects.count() == 1


# --- Database guards ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_timeline_is_append_only_and_statuses_follow_the_graph():
    task = submit()
    services.task_execute(task_id=task.pk)
    event = task.events.first()
    for attempt in (
        lambda: TaskEvent.objects.filter(pk=event.pk).update(message="rewritten"),
        lambda: TaskEvent.objects.filter(pk=event.pk).delete(),
        lambda: Task.objects.filter(pk=task.pk).update(status="running"),
        lambda: Task.objects.filter(pk=task.pk).update(status="queued"),
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            attempt()
    event.refresh_from_db()
    task.refresh_from_db()
    assert event.message == "" and task.status == "succeeded"


# --- Replay ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_replay_reproduces_the_output_without_a_new_effect(settings):
    allow("email.send")
    written_to("client@example.com")
    task = submit(workflow="email.send", data=email_input())
    services.task_execute(task_id=task.pk)
    counts = (len(mail.outbox), OutboxEmail.objects.count(), Action.objects.count(), LLMCall.objects.count())

    report = services.task_replay(task=task)

    assert report.matches is True
    assert report.steps == {"compose": {"output_matches": True, "actions_match": True}}
    assert (
        len(mail.outbox),
        OutboxEmail.objects.count(),
        Action.objects.count(),
        LLMCall.objects.count(),
    ) == counts
    assert kinds(task)[-1] == "replayed"

    # A record that no longer matches what the agents produce is reported, not hidden.
    Task.objects.filter(pk=task.pk).update(output={"steps": {"compose": {"subject": "tampered"}}})
    task.refresh_from_db()
    assert services.task_replay(task=task).matches is False


# --- Schedules and reports ------------------------------------------------------------------


@pytest.mark.django_db
def test_schedules_are_registered_once():
    assert schedules_ensure() == {
        "ledger-sweep": "created",
        "ledger-daily-cost-report": "created",
        "memory-maintenance": "created",
        "approvals-expire": "created",
        "approvals-digest": "created",
        "mail-imap-poll": "created",
        "receivables-sweep": "created",
        "workspace-backup": "created",
    }
    assert set(schedules_ensure().values()) == {"unchanged"}
    assert Schedule.objects.count() == 8
    sweep = Schedule.objects.get(name="ledger-sweep")
    assert (sweep.func, sweep.schedule_type, sweep.minutes) == ("ledger.tasks.ledger_sweep", "I", 1)


@pytest.mark.django_db
def test_the_daily_cost_report_sums_yesterdays_calls(frozen_clock):
    from ledger.tasks import cost_report_daily

    # The report's day is a day in TIME_ZONE: noon of yesterday there. The clock stands still, so both
    # submissions below are made on the same day (midnight cannot pass between them).
    yesterday = timezone.localtime(frozen_clock) - dt.timedelta(days=1)
    for agent, model, cost in [("a", "m1", "0.010000"), ("a", "m2", "0.002500"), ("b", "m1", "0.000500")]:
        call = LLMCall.objects.create(
            agent=agent,
            model=model,
            tier="fast",
            prompt_hash="x" * 64,
            cost=Decimal(cost),
            tokens_in=100,
            tokens_out=10,
        )
        LLMCall.objects.filter(pk=call.pk).update(created_at=yesterday.replace(hour=12))
    LLMCall.objects.create(agent="a", model="m1", tier="fast", prompt_hash="y" * 64, cost=Decimal("9"))

    task = Task.objects.get(pk=cost_report_daily())
    assert cost_report_daily() == str(task.pk), "one report per day"
    assert services.task_execute(task_id=task.pk) == "succeeded"
    report = Task.objects.get(pk=task.pk).output["steps"]["report"]
    assert report["cost"] == "0.013000" and report["calls"] == 3 and report["tokens_in"] == 300
    assert report["by_agent"] == [
        {"name": "a", "cost": "0.012500", "calls": 2},
        {"name": "b", "cost": "0.000500", "calls": 1},
    ]


# --- Logs -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_log_lines_inside_a_task_are_json_with_the_task_id():
    import io
    import json
    import logging

    from ledger.logcontext import JsonFormatter, TaskContextFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(TaskContextFilter())
    logger = logging.getLogger("ledger.services")
    logger.addHandler(handler)
    try:
        task = submit(workflow="email.send", data=email_input(template="missing-template"))
        services.task_execute(task_id=task.pk)
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failure = next(line for line in lines if line["msg"].startswith("attempt failed"))
    assert failure["task_id"] == str(task.pk)
    assert (failure["workflow"], failure["attempt"], failure["level"]) == ("email.send", 1, "ERROR")


@pytest.mark.django_db
def test_discard_takes_dead_letters_only(operator):
    waiting = submit(workflow="email.send", key="waiting", data=email_input())
    services.task_execute(task_id=waiting.pk)
    with pytest.raises(ValidationError, match="Only dead-lettered"):
        services.task_discard(task=waiting, by=operator)
    waiting.refresh_from_db()
    assert waiting.status == "waiting_approval"

    dead = submit(workflow="test.note", key="dead", data={"title": "untrustworthy"})
    services.task_execute(task_id=dead.pk)
    services.task_discard(task=dead, by=operator)
    dead.refresh_from_db()
    assert dead.status == "cancelled"
    assert dead.events.order_by("id").last().message == "Discarded"


@pytest.mark.django_db
def test_submit_or_get_says_whether_it_created():
    first, created = services.task_submit_or_get(
        workflow="ledger.ping", input={}, idempotency_key="same", requested_by="system:test"
    )
    again, created_again = services.task_submit_or_get(
        workflow="ledger.ping", input={}, idempotency_key="same", requested_by="system:test"
    )
    assert (created, created_again) == (True, False) and first.pk == again.pk


@pytest.mark.django_db(transaction=True)
def test_a_task_does_not_succeed_while_another_process_holds_its_email(settings):
    """A worker presumed dead may still be sending; the new worker must not call the task done."""
    import psycopg

    allow("email.send")
    written_to("client@example.com")
    # First attempt: the SMTP server is unreachable, so the email stays pending after the commit (and the
    # task waits for the mail server: ADR 0014).
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", 9, False
    task = submit(workflow="email.send", data=email_input())
    assert services.task_execute(task_id=task.pk) == "delivery-waiting"
    email = OutboxEmail.objects.get()
    assert email.status == "pending" and email.attempts == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Task.objects.filter(pk=task.pk).update(next_attempt_at=timezone.now())

    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"]) as other:
        # The other process is in the middle of sending: it holds the row's delivery lock (ledger.outbox).
        other.execute("SELECT pg_advisory_lock(hashtext('aios.outbox'), %s)", [email.pk])
        assert services.task_execute(task_id=task.pk) == "failed"
        other.execute("SELECT pg_advisory_unlock(hashtext('aios.outbox'), %s)", [email.pk])

    task.refresh_from_db()
    email.refresh_from_db()
    assert task.status == "retrying" and "OutboxPending" in task.last_error
    assert email.status == "pending" and mail.outbox == []
    Task.objects.filter(pk=task.pk).update(next_attempt_at=timezone.now())
    assert services.task_execute(task_id=task.pk) == "succeeded"
    assert len(mail.outbox) == 1
    assert Action.objects.get().status == "committed"
