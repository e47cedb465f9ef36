"""Tasks brought into the states the ledger tests look at, through the conductor's own services."""

from ledger import services

EMAIL = {"to": ["client@example.com"], "subject": "Your proposal", "body": "Hello,\n\nAttached."}


def waiting_email(operator, key="mail"):
    """An email.send task waiting for the operator's approval of its one proposed action."""
    task = services.task_submit(
        workflow="email.send", input=EMAIL, idempotency_key=key, requested_by=operator
    )
    assert services.task_execute(task_id=task.pk) == "waiting-approval"
    task.refresh_from_db()
    return task


def dead_letter(key="dead", requested_by="system:test"):
    """A task that failed its only attempt (the template it names does not exist)."""
    task = services.task_submit(
        workflow="email.send",
        input={**EMAIL, "template": "missing"},
        idempotency_key=key,
        requested_by=requested_by,
        max_attempts=1,
    )
    assert services.task_execute(task_id=task.pk) == "failed"
    task.refresh_from_db()
    assert task.status == "dead"
    return task
