"""django-q2 entry points. Thin: each parses its arguments and calls one service."""

from ledger import services


def task_run(task_id: str) -> str:
    return services.task_execute(task_id=task_id)


def ledger_sweep() -> dict:
    return services.ledger_sweep()
