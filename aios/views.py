from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aios import heartbeat
from core import selectors
from core.http import staff_required


@require_GET
@staff_required("The workspace's overview is for staff users.")
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", {"overview": selectors.workspace_overview()})


@login_not_required
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Health for process supervisors and monitors: the web process answers, the database responds,
    and background work moves.

    `status` is `degraded` (still HTTP 200: the web server itself is fine, and a load balancer must not
    take it out of rotation for a worker problem) when a supervised worker cluster is stalled,
    restarting after an exit, late with its probe, or its supervisor stopped reporting; `problems`
    says which, one line each; signed-in staff also get `clusters`, the state of each.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    health = heartbeat.clusters_health()
    # Anyone may ask (monitors sign in to nothing); the per-cluster detail is for staff only.
    if not (request.user.is_authenticated and request.user.is_staff):
        del health["clusters"]
    return JsonResponse(health)


def too_many_requests(request: HttpRequest) -> HttpResponse:
    """allauth's own rate limits (sign-in requests, password resets; windows of a minute) answer this.
    Failed sign-ins have their own answer with the exact wait (aios/signin_limits.py)."""
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "60"
    return response
