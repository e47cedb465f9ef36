from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core import selectors
from core.http import staff_required


@require_GET
@staff_required("The workspace's overview is for staff users.")
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"overview": selectors.workspace_overview()})


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for process supervisors: the web process answers and the database responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def too_many_requests(request: HttpRequest) -> HttpResponse:
    """allauth's own rate limits (sign-in requests, password resets; windows of a minute) answer this.
    Failed sign-ins have their own answer with the exact wait (aios/signin_limits.py)."""
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "60"
    return response
