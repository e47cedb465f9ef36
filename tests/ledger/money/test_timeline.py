"""An invoice's timeline (ledger.money.timeline) over a real life: issued and sent by the operator, made
overdue by the sweep, reminded by a task the operator approved, held and resumed, paid by an approved
payment task — in order, each event naming who did it and linking the task, in a bounded number of
queries, and nothing of another invoice."""

import pytest

from core import services as core_services
from core.models import Invoice
from ledger.money.timeline import invoice_timeline
from tests.ledger.money.states import overdue_invoice, pay, remind

pytestmark = pytest.mark.django_db


def test_the_timeline_tells_the_invoice_life_in_order_with_the_tasks_that_did_it(workspace, operator):
    invoice = overdue_invoice(operator)
    reminder_task = remind(invoice, operator)
    core_services.invoice_reminders_pause(invoice=invoice, by=operator, reason="Client asked about the VAT")
    core_services.invoice_reminders_resume(invoice=invoice, by=operator)
    payment_task = pay(invoice, operator)
    other = overdue_invoice(operator, name="Other AB", email="ap@other.example")
    other_task = remind(other, operator, key="remind-other")

    events = invoice_timeline(invoice_id=invoice.pk).events

    assert [event.kind for event in events] == [
        "created",
        "issued",
        "document",
        "sent",
        "overdue",
        "reminder_proposed",
        "action",
        "reminder_sent",
        "reminders_paused",
        "reminders_resumed",
        "action",
        "payment",
        "paid",
    ]
    assert [event.at for event in events] == sorted(event.at for event in events)
    by_kind = {event.kind: event for event in events}
    name = operator.get_username()
    assert [by_kind[kind].by for kind in ("created", "issued", "document", "sent")] == [name] * 4
    assert by_kind["issued"].title == f"Issued as {invoice.number}"
    assert (by_kind["overdue"].by, by_kind["overdue"].task_id) == ("receivables sweep", None)
    assert by_kind["reminder_sent"].title == "Friendly reminder sent"
    assert by_kind["reminder_sent"].task_id == reminder_task.pk
    assert by_kind["reminder_sent"].detail == "to ap@berg.example"
    assert by_kind["reminder_proposed"].task_id == reminder_task.pk
    assert by_kind["reminders_paused"].detail == "Client asked about the VAT"
    assert by_kind["reminders_paused"].by == name
    reminder_action, payment_action = (event for event in events if event.kind == "action")
    assert reminder_action.task_id == reminder_task.pk
    assert reminder_action.detail == f"invoice.remind · committed; approved by {name}"
    assert reminder_action.by == f"test_proposer in task {str(reminder_task.pk)[:8]} (test.propose)"
    assert payment_action.task_id == payment_task.pk
    assert payment_action.detail.startswith("payment.record · committed")
    assert f"approved by {name}" in payment_action.detail
    payment = by_kind["payment"]
    assert payment.title == "Payment of 1400.00 EUR allocated"
    assert (
        payment.task_id == payment_task.pk and payment.by == f"task {str(payment_task.pk)[:8]} (test.propose)"
    )
    assert payment.payment_id == invoice.allocations.get().payment_id
    assert f"reference “Invoice {invoice.number}”" in payment.detail
    assert (by_kind["paid"].task_id, by_kind["paid"].task_workflow) == (payment_task.pk, "test.propose")
    # Nothing of the other invoice, whose reminder was sent by its own task.
    assert other_task.pk not in {event.task_id for event in events}
    assert sum(event.kind == "reminder_sent" for event in events) == 1


def test_a_void_invoice_ends_with_its_credit_note_by_whoever_voided_it(workspace, operator):
    invoice = overdue_invoice(operator)
    core_services.invoice_void(invoice=invoice, by=operator, reason="Issued to the wrong entity")

    events = invoice_timeline(invoice_id=invoice.pk).events

    assert [event.kind for event in events][-2:] == ["voided", "credit_note"]
    voided, note = events[-2:]
    assert voided.detail == "Issued to the wrong entity" and voided.by == operator.get_username()
    assert note.title.startswith("Credit note TS-") and note.by == operator.get_username()


def test_the_query_count_does_not_grow_with_the_events(workspace, operator, django_assert_max_num_queries):
    quiet = overdue_invoice(operator, name="Quiet AB", email="ap@quiet.example")
    busy = overdue_invoice(operator)
    remind(busy, operator)
    remind(busy, operator, level="firm", key="remind-firm")
    for index in range(3):
        pay(busy, operator, amount="100.00", key=f"pay-{index}")

    with django_assert_max_num_queries(7):
        short = invoice_timeline(invoice_id=quiet.pk).events
    with django_assert_max_num_queries(7):
        long = invoice_timeline(invoice_id=busy.pk).events
    assert len(long) > len(short) + 10


def test_an_unknown_invoice_is_does_not_exist(db):
    with pytest.raises(Invoice.DoesNotExist):
        invoice_timeline(invoice_id=987654)
