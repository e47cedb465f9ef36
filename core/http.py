"""Small helpers for the pages every app serves."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def staff_required(message: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Refuse a signed-in user who is not staff with 403 and `message`.

    Not Django's `staff_member_required`: that one redirects to the admin's sign-in page, which tells a
    signed-in non-staff user nothing; sign-in itself is required for every page by the middleware.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_staff:
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
