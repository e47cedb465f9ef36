"""What the buttons of the staff pages share (the task pages and the approval queue): each is an ordinary
form POST that calls one service, and the service's refusal (a task in the wrong state, a request already
decided) becomes a message on the page, never an error page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

View = Callable[..., HttpResponse]


def button_call(request: HttpRequest, change: Callable[[], object], *, done: str) -> bool:
    """Run the button's service: say `done`, or why the service refused. Whether it went through."""
    try:
        change()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return False
    messages.success(request, done)
    return True


def decision_views(
    decide: Callable[..., HttpResponse],
    *,
    approve: Callable[..., object],
    reject: Callable[..., object],
    staff_only: Callable[[View], View],
) -> tuple[View, View]:
    """A page's Approve and Reject buttons, as POST views for staff. Each calls
    `decide(request, service, done, **the URL's arguments)` with its service and what to say when it is
    done; Reject passes on the reason the operator typed too, as `reason`."""

    @require_POST
    @staff_only
    def approve_view(request: HttpRequest, **url: Any) -> HttpResponse:
        return decide(request, approve, "Approved", **url)

    @require_POST
    @staff_only
    def reject_view(request: HttpRequest, **url: Any) -> HttpResponse:
        return decide(request, reject, "Rejected", reason=request.POST.get("reason", ""), **url)

    return approve_view, reject_view
