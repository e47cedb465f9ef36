"""django-q2 entry points of the core app. Thin: each calls one service."""

from core.memory.jobs import memory_maintenance_submit


def memory_maintain() -> dict:
    return memory_maintenance_submit()
