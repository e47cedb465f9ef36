"""Mail that must reach a person does (ADR 0014): an SMTP outage is waited out with backoff for as long as the
delivery policy says, the record says "sending" until the mail server took the email, the operator sees a
notice that needs no mail, and once the server is back the waiting mail goes out exactly once by itself.

Real parts: the aiosmtpd server of tests/smtp.py is stopped and started again; the clock is frozen and moved
by hand for the backoff; the conductor runs each attempt as a worker would (task_execute), and the last test
runs a real django-q2 cluster through an outage.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.urls import reverse
from django.utils import timezone

from core import clock
from core.models import Proposal
from ledger import policy, services
from ledger.models import Notice, OutboxEmail, Policy, Task, TaskEvent
from tests.ledger.cluster import QCluster, wait_for
from tests.ledger.policies import allow, written_to
from tests.ledger.proposers import propose
from tests.smtp import Inbox, free_port, smtp_restart

pytestmark = pytest.mark.django_db

WAITING = "outbox:waiting"


def _smtp_settings(settings, controller) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = False
    settings.AIOS_SMTP_TIMEOUT_SECONDS = 5


def _proposal_send(to: str = "ana@client.example") -> dict:
    return {
        "kind": "proposal.send",
        "payload": {
            "to": [to],
            "subject": "Your proposal",
            "body": "Hello Ana,\n\nthe proposal is below.",
            "title": "Website",
            "currency": "EUR",
            "lines": [{"description": "Website", "quantity": "1", "unit_price": "1000.00"}],
            "sender_name": "Ana Lima",
        },
        "summary": "Send the proposal",
    }


def _email_send(to: str = "ana@client.example", subject: str = "Hello") -> dict:
    return {
        "kind": "email.send",
        "payload": {"to": [to], "subject": subject, "body": "Hi."},
        "summary": subject,
    }


def _run(task: Task) -> str:
    outcome = services.task_execute(task_id=task.pk)
    task.refresh_from_db()
    return outcome


def _waiting_notice() -> Notice | None:
    return Notice.objects.filter(key=WAITING, resolved_at__isnull=True).first()


@contextlib.contextmanager
def _at(moment):
    with clock.frozen(moment):
        yield moment


# --- Waiting out an outage --------------------------------------------------------------------------------


def test_an_outage_is_waited_out_with_growing_waits_and_the_mail_goes_out_once_when_smtp_returns(
    settings, smtp_server, frozen_clock, operator_client
):
    controller, inbox = smtp_server
    _smtp_settings(settings, controller)
    allow("proposal.send")
    written_to("ana@client.example")
    controller.stop()  # the mail server is down before the operator's proposal goes out

    task, outcome = propose(_proposal_send(), key="outage")

    assert outcome == "delivery-waiting"
    email = OutboxEmail.objects.get()
    proposal = Proposal.objects.get()
    # The record does not claim what did not happen: approved and committed, but only "sending".
    assert proposal.status == Proposal.Status.SENDING and proposal.sent_at is None
    assert (email.status, email.attempts, email.first_failed_at) == ("pending", 1, frozen_clock)
    assert email.next_attempt_at == frozen_clock + timedelta(seconds=60)
    # Waiting for the mail server does not use up the task's attempts.
    assert (task.status, task.attempts, task.next_attempt_at) == ("retrying", 0, email.next_attempt_at)
    event = task.events.get(kind=TaskEvent.Kind.DELIVERY_FAILED)
    assert event.data["gives_up_at"] == (frozen_clock + timedelta(hours=72)).isoformat()
    assert event.data["policy"]["name"] == "Retry undelivered mail for 3 days"
    notice = _waiting_notice()
    assert notice is not None and notice.title == "1 email waiting for the mail server"
    assert "72 hours" in notice.body and "ConnectionRefusedError" in notice.body

    # Not before its time: a worker handed the task early does not claim it.
    assert _run(task) == "not-claimable"

    # The waits double (60, 120, 240, …) up to the policy's longest wait (1800 s), and the outage can last
    # far longer than the task's 5 attempts would have: 12 failed tries here.
    now, waits = frozen_clock, []
    for _ in range(11):
        now = task.next_attempt_at
        with _at(now):
            assert _run(task) == "delivery-waiting"
        waits.append(int((task.next_attempt_at - now).total_seconds()))
    assert waits == [120, 240, 480, 960, 1800, 1800, 1800, 1800, 1800, 1800, 1800]
    email.refresh_from_db()
    assert (email.attempts, email.status, task.attempts, task.status) == (12, "pending", 0, "retrying")
    assert inbox.messages == []
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.SENDING

    # The operator sees it in the back office and on the home page, without any mail; the task's page says
    # when the next try is.
    for page in (reverse("admin:index"), reverse("home")):
        body = operator_client.get(page).content.decode()
        assert "1 email waiting for the mail server" in body, page
    task_page = operator_client.get(reverse("ledger:task", args=[task.pk])).content.decode()
    assert "Waiting for the mail server" in task_page
    assert f"next try {timezone.localtime(task.next_attempt_at):%Y-%m-%d %H:%M:%S} (by itself)" in task_page

    # The mail server is back: the next try, due by itself, sends the email once; nobody pressed retry.
    smtp_restart(controller)
    delivered_at = task.next_attempt_at
    with _at(delivered_at):
        assert _run(task) == "succeeded"
        assert _run(task) == "not-claimable"
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["Message-ID"] == email.message_id
    email.refresh_from_db()
    proposal.refresh_from_db()
    assert (email.status, email.sent_at) == ("sent", delivered_at)
    assert (proposal.status, proposal.sent_at) == (Proposal.Status.SENT, delivered_at)
    assert list(proposal.history.order_by("history_id").values_list("status", flat=True))[-2:] == [
        "sending",
        "sent",
    ]
    assert _waiting_notice() is None
    resolved = Notice.objects.get(key=WAITING)
    assert resolved.resolution == "the mail server took every waiting email"
    assert "waiting for the mail server" not in operator_client.get(reverse("admin:index")).content.decode()


def test_an_approved_payment_reminder_is_sending_until_delivered(
    settings, smtp_server, operator, workspace, django_capture_on_commit_callbacks
):
    from tests.ledger.test_receivables import DUE, at, run_reminder_tasks, sent_invoice, sweep

    controller, inbox = smtp_server
    _smtp_settings(settings, controller)
    settings.TIME_ZONE = "Europe/Stockholm"
    invoice = sent_invoice(operator, due=DUE)
    monday = at(DUE + timedelta(days=3))
    assert sweep(monday, django_capture_on_commit_callbacks)["reminders"] == 1
    controller.stop()

    with _at(monday):
        (drafted,) = run_reminder_tasks(operator, approve=False)
        from ledger import approvals

        approvals.approval_approve(approval=drafted.approval, by=operator)
        task = drafted.task
        assert _run(task) == "delivery-waiting"
    reminder = invoice.reminders.get()
    assert (reminder.status, reminder.sent_at) == ("sending", None)

    smtp_restart(controller)
    later = monday + timedelta(minutes=5)
    with _at(later):
        assert _run(task) == "succeeded"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.sent_at) == ("sent", later)
    assert len(inbox.messages) == 1


def test_the_waiting_notice_counts_every_waiting_email_and_stays_until_the_last_is_delivered(
    settings, smtp_server, frozen_clock
):
    controller, inbox = smtp_server
    _smtp_settings(settings, controller)
    allow("email.send")
    written_to("ana@client.example", "ben@client.example")
    controller.stop()

    first, _ = propose(_email_send("ana@client.example", "First"), key="first")
    second, _ = propose(_email_send("ben@client.example", "Second"), key="second")

    assert _waiting_notice().title == "2 emails waiting for the mail server"
    smtp_restart(controller)
    with _at(first.next_attempt_at):
        assert _run(first) == "succeeded"
    assert _waiting_notice().title == "1 email waiting for the mail server"
    with _at(second.next_attempt_at):
        assert _run(second) == "succeeded"
    assert _waiting_notice() is None
    assert sorted(message["Subject"] for message in inbox.messages) == ["First", "Second"]


# --- Giving up, visibly -----------------------------------------------------------------------------------


def test_after_the_policys_window_the_email_is_given_up_with_a_notice_and_a_retry_sends_it_once(
    settings, smtp_server, frozen_clock, operator
):
    controller, inbox = smtp_server
    _smtp_settings(settings, controller)
    allow("proposal.send")
    written_to("ana@client.example")
    controller.stop()
    task, _ = propose(_proposal_send(), key="give-up")
    email = OutboxEmail.objects.get()

    # The last try falls exactly at the end of the window (72 hours after the first failure), not after it.
    three_days = frozen_clock + timedelta(hours=72)
    with _at(three_days - timedelta(seconds=10)):
        assert _run(task) == "delivery-waiting"
    assert task.next_attempt_at == three_days
    with _at(three_days):
        assert _run(task) == "dead"

    email.refresh_from_db()
    assert (email.status, email.next_attempt_at) == ("failed", None)
    assert task.status == "dead"
    dead = task.events.get(kind=TaskEvent.Kind.DEAD_LETTERED)
    assert "gave up delivering an email" in dead.message and "72 hours" in dead.message
    notice = Notice.objects.get(key=f"outbox:failed:{email.pk}", resolved_at__isnull=True)
    assert notice.level == "error" and notice.task == task
    assert notice.title == "Email not delivered: “Your proposal” to ana@client.example"
    assert notice.link == reverse("ledger:task", args=[task.pk])
    # It waits no longer: the waiting notice is gone, the given-up one stays.
    assert _waiting_notice() is None
    assert Proposal.objects.get().status == Proposal.Status.SENDING
    assert inbox.messages == []

    # The operator fixes the mail server and retries: a fresh window, one email, the notice closes.
    smtp_restart(controller)
    services.task_retry(task=task, by=operator)
    assert _run(task) == "succeeded"
    assert len(inbox.messages) == 1
    email.refresh_from_db()
    assert email.status == "sent"
    assert Proposal.objects.get().status == Proposal.Status.SENT
    notice.refresh_from_db()
    assert notice.resolved_at is not None and notice.resolution == f"retried by {operator.get_username()}"


def test_a_delivery_policy_edited_by_the_operator_sets_the_window_and_the_waits(
    settings, smtp_server, frozen_clock, operator
):
    controller, inbox = smtp_server
    _smtp_settings(settings, controller)
    default = Policy.objects.get(kind=Policy.Kind.DELIVERY)
    policy.policy_save(
        policy=default,
        by=operator,
        name=default.name.replace("3 days", "2 hours"),
        kind=Policy.Kind.DELIVERY,
        params={"retry_hours": 2, "first_retry_seconds": 300, "max_retry_seconds": 3600},
    )
    allow("email.send")
    written_to("ana@client.example")
    controller.stop()

    task, _ = propose(_email_send(), key="short")

    assert task.next_attempt_at == frozen_clock + timedelta(seconds=300)
    event = task.events.get(kind=TaskEvent.Kind.DELIVERY_FAILED)
    assert event.data["gives_up_at"] == (frozen_clock + timedelta(hours=2)).isoformat()
    assert event.data["policy"]["version"] == 2
    with _at(frozen_clock + timedelta(hours=2)):
        assert _run(task) == "dead"
    assert OutboxEmail.objects.get().status == "failed"


def test_the_delivery_policy_refuses_a_longest_wait_shorter_than_the_first():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        policy.policy_params_validate(
            kind="delivery", params={"retry_hours": 72, "first_retry_seconds": 600, "max_retry_seconds": 60}
        )
    assert "the longest wait cannot be shorter than the first one" in str(refused.value)
    with pytest.raises(ValidationError):
        policy.policy_params_validate(kind="delivery", params={"retry_hours": 0})


class RefusingInbox(Inbox):
    """A server that knows no mailbox called nobody@: a permanent (5xx) refusal of the recipient."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd
        if address.startswith("nobody@"):
            return "550 5.1.1 <nobody@client.example>: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def refusing_smtp():
    inbox = RefusingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp_restart(controller)
    try:
        yield controller, inbox
    finally:
        controller.stop()


def test_a_permanent_refusal_is_given_up_at_once_with_a_notice(settings, refusing_smtp, frozen_clock):
    controller, inbox = refusing_smtp
    _smtp_settings(settings, controller)
    allow("email.send")
    written_to("nobody@client.example")

    task, outcome = propose(_email_send("nobody@client.example"), key="refused")

    assert outcome == "dead" and task.status == "dead"
    email = OutboxEmail.objects.get()
    assert (email.status, email.attempts) == ("failed", 1)
    assert "SMTPRecipientsRefused" in email.last_error
    notice = Notice.objects.get(key=f"outbox:failed:{email.pk}")
    assert "refused it for good" in notice.body and "no such user" in notice.body
    assert inbox.messages == []


def test_a_dead_letter_of_any_kind_is_a_notice_until_the_operator_discards_it(operator):
    from tests.ledger.states import dead_letter

    task = dead_letter()

    notice = Notice.objects.get(key=f"task-dead:{task.pk}")
    assert notice.is_open and notice.level == "error" and notice.task == task
    services.task_discard(task=task, by=operator, reason="not needed")
    notice.refresh_from_db()
    assert not notice.is_open and notice.resolution == f"cancelled by {operator.get_username()}"


def test_the_operator_can_dismiss_a_notice_and_it_opens_again_if_the_condition_returns(
    operator, frozen_clock
):
    raised = services.notice_raise(key="test:thing", title="Something to see", body="Look.")
    assert raised.is_open and raised.occurrences == 1

    services.notice_dismiss(notice=raised, by=operator)
    assert not raised.is_open and raised.resolved_by == operator

    later = frozen_clock + timedelta(hours=1)
    with _at(later):
        again = services.notice_raise(key="test:thing", title="Something to see again")
    assert again.pk == raised.pk and again.is_open and again.raised_at == later and again.occurrences == 1
    assert Notice.objects.count() == 1


def test_notices_are_shown_to_staff_only(operator_client, django_user_model):
    from django.test import Client

    services.notice_raise(key="test:secret", title="Mail server down", body="Details.")
    someone = django_user_model.objects.create_user(username="someone", email="someone@example.com")
    other = Client()
    other.force_login(someone)

    assert "Mail server down" in operator_client.get(reverse("home")).content.decode()
    assert "Mail server down" not in other.get(reverse("home")).content.decode()


# --- A real cluster through an outage ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_cluster_waits_out_an_outage_and_sends_every_email_exactly_once(tmp_path, smtp_server, operator):
    controller, inbox = smtp_server
    # (An earlier transactional test may have flushed the default row: then it is made here.)
    default = Policy.objects.filter(kind=Policy.Kind.DELIVERY).first()
    # Short waits, so the outage and the recovery fit in a test; the cluster reads the policy as it runs.
    policy.policy_save(
        policy=default,
        by=operator,
        name="Retry undelivered mail quickly",
        kind=Policy.Kind.DELIVERY,
        params={"retry_hours": 72, "first_retry_seconds": 1, "max_retry_seconds": 2},
    )
    allow("email.send")
    recipients = [f"client{index}@example.com" for index in range(6)]
    written_to(*recipients)
    controller.stop()
    cluster = QCluster(
        "outage",
        tmp_path,
        workers=2,
        AIOS_SMTP_HOST=controller.hostname,
        AIOS_SMTP_PORT=str(controller.port),
        AIOS_SMTP_STARTTLS="false",
        AIOS_SMTP_TIMEOUT="5",
    )
    try:
        cluster.start()
        tasks = [
            services.task_submit(
                workflow="email.send",
                input={"to": [address], "subject": f"Invoice {index}", "body": "Hello."},
                idempotency_key=f"outage:{index}",
                requested_by="system:test",
            )
            for index, address in enumerate(recipients)
        ]

        def failed_several_times() -> bool:
            services.ledger_sweep()  # the scheduled sweep, played here: hands due retries to the cluster
            emails = OutboxEmail.objects.all()
            return emails.count() == len(tasks) and all(email.attempts >= 3 for email in emails)

        wait_for(
            failed_several_times, seconds=120, what=f"failed tries during the outage:\n{cluster.log_tail()}"
        )
        assert inbox.messages == []
        assert not Task.objects.filter(status__in=["dead", "succeeded"]).exists()
        assert _waiting_notice().title == f"{len(tasks)} emails waiting for the mail server"

        smtp_restart(controller)

        def all_sent() -> bool:
            services.ledger_sweep()
            return Task.objects.filter(status="succeeded").count() == len(tasks)

        wait_for(all_sent, seconds=120, what=f"the mail to go out after the outage:\n{cluster.log_tail()}")
    finally:
        cluster.kill()

    assert sorted(message["To"] for message in inbox.messages) == sorted(recipients)
    ids = [message["Message-ID"] for message in inbox.messages]
    assert len(ids) == len(set(ids)) == len(tasks)
    assert set(OutboxEmail.objects.values_list("status", flat=True)) == {"sent"}
    assert _waiting_notice() is None
