"""The receivables sweep on the real database: invoices past due become overdue in one statement (with
their history), and on working days in working hours each overdue invoice gets each reminder level once,
in order — drafted for approval, sent to its own client — never after it is paid or paused, never on a
weekend or at night. Time is the frozen clock; the workspace's time zone is Europe/Stockholm."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail as django_mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import clock
from core import services as core_services
from core.models import Invoice, InvoiceReminder
from ledger import approvals, reminders, services
from ledger.models import Action, Policy, Task
from tests.factories import ClientFactory, ContactFactory, InvoiceFactory

pytestmark = pytest.mark.django_db
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture(autouse=True)
def stockholm(settings):
    settings.TIME_ZONE = "Europe/Stockholm"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=STOCKHOLM)


def sent_invoice(
    operator, *, due: dt.date, email: str = "ap@client.example", name: str = "Client AB"
) -> Invoice:
    client = ClientFactory(name=name, email=email)
    ContactFactory(client=client, name="Ada Payer", email=email, is_primary=True)
    invoice = InvoiceFactory(client=client)
    invoice = core_services.invoice_issue(
        invoice=invoice, by=operator, issue_date=due - dt.timedelta(days=30)
    )
    return core_services.invoice_mark_sent(invoice=invoice, by=operator)


def sweep(when: dt.datetime, capture) -> dict:
    with clock.frozen(when), capture(execute=False):
        return reminders.receivables_sweep()


def run_reminder_tasks(by, *, approve: bool = True) -> list[Action]:
    drafted = []
    for task in Task.objects.filter(workflow="invoice.remind", status="queued").order_by("created_at"):
        services.task_execute(task_id=task.pk)
        for action in task.actions.order_by("pk"):
            drafted.append(action)
            if approve:
                approvals.approval_approve(approval=action.approval, by=by)
        if approve:
            assert services.task_execute(task_id=task.pk) == "succeeded"
    return drafted


# Monday 2 November 2026 is a working day; the invoice is due on Friday 30 October.
DUE = dt.date(2026, 10, 30)


def test_past_due_sent_invoices_become_overdue_in_one_statement_with_history(workspace, operator):
    overdue = sent_invoice(operator, due=DUE)
    on_time = sent_invoice(operator, due=dt.date(2026, 11, 2), email="b@client.example")
    issued_only = core_services.invoice_issue(
        invoice=InvoiceFactory(client=ClientFactory(email="c@client.example")),
        by=operator,
        issue_date=dt.date(2026, 9, 1),
    )

    with CaptureQueriesContext(connection) as queries:
        marked = core_services.invoices_overdue_mark(today=dt.date(2026, 11, 2))

    assert marked == 1 and len(queries) <= 3  # the statement, inside its transaction
    overdue.refresh_from_db()
    assert (overdue.status, overdue.overdue_since) == ("overdue", dt.date(2026, 11, 2))
    latest = overdue.history.order_by("-history_id").first()
    assert (latest.status, latest.history_change_reason) == ("overdue", "overdue: past its due date")
    on_time.refresh_from_db()
    issued_only.refresh_from_db()
    assert (on_time.status, issued_only.status) == ("sent", "approved")


def test_the_query_count_does_not_grow_with_the_invoices(workspace, operator):
    counts = []
    for how_many in (1, 12):
        for index in range(how_many):
            sent_invoice(operator, due=DUE, email=f"{how_many}-{index}@client.example")
        with CaptureQueriesContext(connection) as queries:
            core_services.invoices_overdue_mark(today=dt.date(2026, 11, 20))
            core_services.invoice_reminders_due(
                today=dt.date(2026, 11, 20),
                levels=[core_services.ReminderLevel("friendly", 3), core_services.ReminderLevel("firm", 14)],
                min_gap_days=3,
            )
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_each_level_once_in_order_then_none(workspace, operator, django_capture_on_commit_callbacks):
    invoice = sent_invoice(operator, due=DUE)

    # Day 2 past due: nothing yet. Day 3 (Monday 2 Nov): the friendly one.
    assert sweep(at(dt.date(2026, 11, 1)), django_capture_on_commit_callbacks)["reminders"] == 0  # Sunday
    assert sweep(at(dt.date(2026, 11, 2)), django_capture_on_commit_callbacks)["reminders"] == 1
    (friendly,) = run_reminder_tasks(operator)
    assert friendly.kind == "invoice.remind" and friendly.payload["level"] == "friendly"
    (sent,) = django_mail.outbox
    assert sent.to == ["ap@client.example"]
    assert invoice.number in sent.subject and "3 days overdue" in sent.body

    # Every later working day until day 14: nothing new; the friendly level is never drafted again.
    for day in range(3, 13):
        when = at(dt.date(2026, 11, day))
        if when.weekday() < 5:
            assert sweep(when, django_capture_on_commit_callbacks)["reminders"] == 0, day
    assert sweep(at(dt.date(2026, 11, 13)), django_capture_on_commit_callbacks)["reminders"] == 1  # day 14
    (firm,) = run_reminder_tasks(operator)
    assert firm.payload["level"] == "firm"

    assert sweep(at(dt.date(2026, 11, 30)), django_capture_on_commit_callbacks)["reminders"] == 1  # day 31
    (final,) = run_reminder_tasks(operator)
    assert final.payload["level"] == "final"
    assert workspace.late_payment_text and workspace.late_payment_text in django_mail.outbox[-1].body

    assert sweep(at(dt.date(2026, 12, 30)), django_capture_on_commit_callbacks)["reminders"] == 0
    assert len(django_mail.outbox) == 3
    levels = list(invoice.reminders.order_by("created_at").values_list("level", "status"))
    assert levels == [("friendly", "sent"), ("firm", "sent"), ("final", "sent")]


def test_no_reminder_after_payment_even_if_drafted_before(
    workspace, operator, django_capture_on_commit_callbacks
):
    invoice = sent_invoice(operator, due=DUE)
    sweep(at(dt.date(2026, 11, 2)), django_capture_on_commit_callbacks)
    (drafted,) = run_reminder_tasks(operator, approve=False)

    core_services.invoice_mark_paid(invoice=invoice, by=operator)
    approvals.approval_approve(approval=drafted.approval, by=operator)
    assert services.task_execute(task_id=drafted.task_id) == "succeeded"

    drafted.refresh_from_db()
    assert drafted.result["sent"] is False and "paid" in drafted.result["why"]
    assert django_mail.outbox == []
    assert invoice.reminders.get().status == "cancelled"
    assert sweep(at(dt.date(2026, 11, 16)), django_capture_on_commit_callbacks)["reminders"] == 0


@pytest.mark.parametrize(
    "when",
    [
        at(dt.date(2026, 11, 7)),
        at(dt.date(2026, 11, 8)),
        at(dt.date(2026, 11, 2), 20),
        at(dt.date(2026, 11, 2), 7),
    ],
    ids=["saturday", "sunday", "monday-evening", "monday-early"],
)
def test_quiet_on_weekends_and_outside_working_hours(
    workspace, operator, when, django_capture_on_commit_callbacks
):
    invoice = sent_invoice(operator, due=DUE)

    outcome = sweep(when, django_capture_on_commit_callbacks)

    assert outcome["reminders"] == 0 and outcome["why"] == "outside working days and hours"
    invoice.refresh_from_db()
    assert invoice.status == "overdue"  # marking overdue is bookkeeping, any day
    assert (
        not InvoiceReminder.objects.exists() and not Task.objects.filter(workflow="invoice.remind").exists()
    )


def test_paused_reminders_wait_and_resume(workspace, operator, django_capture_on_commit_callbacks):
    invoice = sent_invoice(operator, due=DUE)
    core_services.invoice_reminders_pause(invoice=invoice, by=operator, reason="the client disputes 2 hours")

    assert sweep(at(dt.date(2026, 11, 2)), django_capture_on_commit_callbacks)["reminders"] == 0

    core_services.invoice_reminders_resume(invoice=invoice, by=operator)
    assert sweep(at(dt.date(2026, 11, 3)), django_capture_on_commit_callbacks)["reminders"] == 1


def test_the_levels_are_a_policy_the_operator_edits(workspace, operator, django_capture_on_commit_callbacks):
    from ledger.policy import policy_save

    policy = Policy.objects.get(kind=Policy.Kind.REMINDER)
    policy_save(
        policy=policy,
        by=operator,
        name=policy.name,
        kind=policy.kind,
        params={
            **policy.params,
            "levels": [{"name": "nudge", "after_days": 1, "template": "payment_reminder"}],
        },
    )
    sent_invoice(operator, due=DUE)

    assert sweep(at(dt.date(2026, 11, 2)), django_capture_on_commit_callbacks)["reminders"] == 1
    (nudge,) = run_reminder_tasks(operator, approve=False)
    assert nudge.payload["level"] == "nudge"

    with pytest.raises(Exception, match="earliest to the latest"):
        policy_save(
            policy=policy,
            by=operator,
            name=policy.name,
            kind=policy.kind,
            params={
                **policy.params,
                "levels": [{"name": "a", "after_days": 9}, {"name": "b", "after_days": 2}],
            },
        )


def _mail(sender: str, subject: str, body: str, message_id: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: operator@example.com\r\nSubject: {subject}\r\n"
        f"Date: Tue, 03 Nov 2026 10:00:00 +0100\r\nMessage-ID: <{message_id}>\r\n\r\n{body}\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("subject", "body", "route"),
    [
        (
            "Question about invoice {n}",
            "Invoice {n} charges 12 hours, we agreed on 10. Could you check?",
            "billing",
        ),
        ("Paid", "We transferred the full amount for invoice {n} yesterday.", "payment"),
    ],
)
def test_a_clients_question_or_payment_notice_holds_its_invoices_reminders(
    workspace, operator, subject, body, route, django_capture_on_commit_callbacks
):
    from connectors.services import mail_ingest

    ours = sent_invoice(operator, due=DUE)
    other = sent_invoice(operator, due=DUE, email="ap@other.example", name="Other AB")
    raw = _mail(
        "Ada Payer <ap@client.example>",
        subject.format(n=ours.number),
        body.format(n=ours.number) + f" Also {other.number}.",
        f"{route}@client.example",
    )
    with django_capture_on_commit_callbacks(execute=True):
        inbound = mail_ingest(raw=raw, path="file", source="test")
    task = Task.objects.get(workflow="intake.process", input__message_id=inbound.message.pk)
    services.task_execute(task_id=task.pk)

    task.refresh_from_db()
    assert task.output["steps"]["route"]["route"] == route
    pause = task.actions.get(kind="invoice.reminders_pause")
    assert pause.status == "approved"  # holding mail back needs nobody's approval
    assert pause.payload["invoice_ids"] == [ours.pk]  # another client's invoice is not this sender's
    # Held at once, while the operator has not answered the mail yet: only the other invoice is reminded.
    assert sweep(at(dt.date(2026, 11, 4)), django_capture_on_commit_callbacks)["reminders"] == 1
    assert InvoiceReminder.objects.get().invoice_id == other.pk

    for action in task.actions.exclude(pk=pause.pk):
        approvals.approval_approve(approval=action.approval, by=operator)
    assert services.task_execute(task_id=task.pk) == "succeeded"
    ours.refresh_from_db()
    other.refresh_from_db()
    assert (ours.reminders_paused, other.reminders_paused) == (True, False)
    assert sweep(at(dt.date(2026, 11, 9)), django_capture_on_commit_callbacks)["reminders"] == 0


def test_the_aging_and_the_overdue_list_in_the_api_and_on_the_home_page(workspace, operator, client):
    client.force_login(operator)
    today = dt.date(2026, 11, 30)
    for days, email in ((5, "a@x.example"), (40, "b@x.example"), (75, "c@x.example"), (120, "d@x.example")):
        sent_invoice(operator, due=today - dt.timedelta(days=days), email=email, name=email)
    sent_invoice(operator, due=today + dt.timedelta(days=3), email="e@x.example", name="not yet due")
    with clock.frozen(at(today)):
        core_services.invoices_overdue_mark(today=today)
        aging = client.get("/api/v1/invoices/aging").json()
        overdue = client.get("/api/v1/invoices/overdue").json()
        home = client.get("/").content.decode()

    # Each default invoice: 3 × 650.00 without VAT + 2.5 × 180.00 with 25 % = 2512.50.
    (eur,) = aging
    assert (eur["count"], eur["overdue"]) == (5, 4)
    assert [eur[key] for key in ("current", "days_1_30", "days_31_60", "days_61_90", "days_90_plus")] == [
        "2512.50",
        "2512.50",
        "2512.50",
        "2512.50",
        "2512.50",
    ]
    assert [row["days_overdue"] for row in overdue["items"]] == [120, 75, 40, 5]
    assert overdue["items"][0]["reminders_sent"] == []
    assert '<th class="num">90+</th>' in home and "2,512.50" in home
    from django.test import Client as HttpClient

    assert HttpClient().get("/api/v1/invoices/aging").status_code == 401
