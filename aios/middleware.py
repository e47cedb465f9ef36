"""Response headers every page of the workspace gets."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


def private_no_store(get_response: Callable[[HttpRequest], HttpResponse]):
    """Every page and API answer is the operator's business (approvals, tasks, tokens, records): no
    browser, proxy or back button keeps a copy. Static files are answered by WhiteNoise before this runs
    and stay cacheable; a view that sets its own Cache-Control keeps it."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response

    return middleware
