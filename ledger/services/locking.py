"""Working through rows one at a time, each in its own transaction with the row locked, so several workers
(or a worker and a sweep) can run the same pass without waiting on each other or doing a row twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import transaction
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def each_row_locked(queryset: QuerySet[M], change: Callable[[M], None]) -> int:
    """Run `change` on each row of `queryset`, locked in its own transaction; a row another worker holds, or
    one that no longer matches once locked, is passed over. Returns how many rows were changed."""
    changed = 0
    for pk in queryset.values_list("pk", flat=True):
        with transaction.atomic():
            row = queryset.select_for_update(skip_locked=True).filter(pk=pk).first()
            if row is None:
                continue
            change(row)
            changed += 1
    return changed
