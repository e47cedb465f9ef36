"""Submitting many tasks at once (a bank statement's payment proposals): one key, one task, as with
task_submit; handed to django-q2 after commit, in chunks when there are many."""

import pytest
from django.core.exceptions import ValidationError
from django_q.models import OrmQ

from ledger import services, tasks
from ledger.models import Task, TaskEvent
from tests.ledger.proposers import PROPOSE

pytestmark = pytest.mark.django_db


def test_many_tasks_are_created_once_per_key_and_handed_over_in_chunks(django_capture_on_commit_callbacks):
    items = [(f"many:{n}", {"actions": []}) for n in range(25)]
    queued_before = OrmQ.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        created = services.tasks_submit_many(workflow=PROPOSE.name, items=items, requested_by="system:test")

    assert len(created) == 25 and Task.objects.filter(idempotency_key__startswith="many:").count() == 25
    assert TaskEvent.objects.filter(task__in=created, kind="created").count() == 25
    assert OrmQ.objects.count() == queued_before + 1  # one chunk for the worker, not 25 queue inserts

    tasks.tasks_enqueue([str(task_id) for task_id in created])
    assert OrmQ.objects.count() == queued_before + 26

    with django_capture_on_commit_callbacks(execute=True):
        again = services.tasks_submit_many(
            workflow=PROPOSE.name, items=[*items, ("many:new", {"actions": []})], requested_by="system:test"
        )
    assert list(Task.objects.filter(pk__in=again).values_list("idempotency_key", flat=True)) == ["many:new"]
    assert Task.objects.filter(idempotency_key__startswith="many:").count() == 26
    assert services.task_execute(task_id=again[0]) == "succeeded"


def test_a_bad_input_refuses_the_whole_batch():
    good = {"client_id": 1, "amount": "10.00", "currency": "EUR", "received_on": "2026-11-02"}
    with pytest.raises(ValidationError, match="amount"):
        services.tasks_submit_many(
            workflow="payment.propose",
            items=[("bad:1", good), ("bad:2", {**good, "amount": "-5"})],
            requested_by="connector:bank_statement",
        )
    assert not Task.objects.filter(idempotency_key__startswith="bad:").exists()


def test_the_tasks_are_stored_as_task_submit_stores_them(operator):
    [task_id] = services.tasks_submit_many(
        workflow=PROPOSE.name, items=[("one:1", {"actions": []})], requested_by=operator
    )
    alone = services.task_submit(
        workflow=PROPOSE.name, input={"actions": []}, idempotency_key="one:2", requested_by=operator
    )

    fields = ("workflow", "status", "mode", "input", "requested_by_kind", "requested_by_user", "max_attempts")
    task = Task.objects.get(pk=task_id)
    assert [getattr(task, name) for name in fields] == [getattr(alone, name) for name in fields]
    assert task.created_at is not None and task.attempts == 0 and task.last_error == ""
    event = TaskEvent.objects.get(task=task)
    assert (event.kind, event.attempt, event.data) == ("created", 0, {"requested_by": str(operator)})
