"""The raw django-q2 baseline's task: a module-level function a worker can import, doing nothing."""


def noop() -> None:
    return None
