"""Failed sign-in limits that nobody elsewhere can turn into a lock-out of the operator (ADR 0010).

Three counters, kept by allauth's rate limiter in the shared database cache:

- one account from one address (AIOS_LOGIN_ATTEMPTS_LIMIT per AIOS_LOGIN_ATTEMPTS_TIMEOUT): someone
  guessing a password from one place; other addresses do not count, so a stranger's wrong passwords
  never block the operator at their own desk;
- one address over all accounts (AIOS_LOGIN_IP_LIMIT per twice the timeout): one place trying many
  accounts;
- one account over all addresses (AIOS_LOGIN_ACCOUNT_LIMIT an hour): guessing spread over many
  addresses. Attempts from a network the account signed in from before (the /24 or /64 around the
  address, remembered AIOS_LOGIN_KNOWN_NETWORK_DAYS) neither count nor are held back by it.

A successful sign-in takes its own attempt back (allauth's rollback), so it cannot be used to wipe the
counters between guesses. A refused attempt answers 429 with Retry-After and says when to try again.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from collections.abc import Callable
from datetime import timedelta

from allauth.core.internal import ratelimit
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from core import clock

_APP = "allauth.account"
_PER_ADDRESS = "login_failed"
_PER_ACCOUNT = "aios_login_failed_account"
_RETRY_AFTER = "_aios_signin_retry_after"


def _account_rates() -> dict[str, str]:
    return {_PER_ACCOUNT: f"{settings.AIOS_LOGIN_ACCOUNT_LIMIT}/3600s/key"}


def _network(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _known_key(login: str, network: str) -> str:
    digest = hashlib.sha256(f"{login}|{network}".encode()).hexdigest()
    return f"aios:signin:known-network:{digest}"


def _retry_after(request: HttpRequest, *, action: str, key: str, config: dict | None) -> int:
    """Seconds until the fullest of the action's counters has room again."""
    now = clock.timestamp()
    wait = 1.0
    for rate in ratelimit.get_rates(app=_APP, action=action, config=config):
        cache_key = ratelimit.get_cache_key(request, app=_APP, action=action, rate=rate, key=key)
        history = cache.get(cache_key, [])
        if len(history) >= rate.amount:
            # Newest first: the slot frees when the amount-th newest attempt leaves the window.
            wait = max(wait, min(rate.duration, history[rate.amount - 1] + rate.duration - now))
    return math.ceil(wait)


def _refuse(request: HttpRequest, seconds: int) -> ValidationError:
    setattr(request, _RETRY_AFTER, seconds)
    minutes = math.ceil(seconds / 60)
    when = f"{minutes} minute{'s' if minutes != 1 else ''}"
    return ValidationError(
        f"Too many failed sign-ins for this account from your network. Try again in {when}, or reset "
        "your password.",
        code="too_many_login_attempts",
    )


def signin_attempt_begin(request: HttpRequest, *, login: str) -> ratelimit.RateLimitUsage:
    """Count one sign-in attempt, or raise the refusal (a form error; the response becomes a 429).

    The returned usage is rolled back when the password turns out right."""
    login = login.strip().lower()
    ip = ratelimit.get_ip(request)
    here = f"{login}|{ip}"
    usage = ratelimit.consume(request, app=_APP, action=_PER_ADDRESS, key=here)
    if not usage:
        raise _refuse(request, _retry_after(request, action=_PER_ADDRESS, key=here, config=None))
    if not cache.get(_known_key(login, _network(ip))):
        config = _account_rates()
        everywhere = ratelimit.consume(request, app=_APP, action=_PER_ACCOUNT, key=login, config=config)
        if not everywhere:
            usage.rollback()
            raise _refuse(request, _retry_after(request, action=_PER_ACCOUNT, key=login, config=config))
        usage.usage.extend(everywhere.usage)
    return usage


def signin_limits_clear(request: HttpRequest, *, login: str) -> None:
    """The password was just reset by mail (proof of owning the account): its counters start again."""
    login = login.strip().lower()
    ip = ratelimit.get_ip(request)
    ratelimit.clear(request, app=_APP, action=_PER_ADDRESS, key=f"{login}|{ip}")
    ratelimit.clear(request, app=_APP, action=_PER_ACCOUNT, key=login, config=_account_rates())


def signin_network_remember(request: HttpRequest, *, login: str) -> None:
    """The account signed in from here: its network is the operator's own from now on."""
    network = _network(ratelimit.get_ip(request))
    days = timedelta(days=settings.AIOS_LOGIN_KNOWN_NETWORK_DAYS)
    cache.set(_known_key(login.strip().lower(), network), True, int(days.total_seconds()))


def signin_limit_status(get_response: Callable[[HttpRequest], HttpResponse]):
    """Middleware: a page whose sign-in attempt was refused by the limits answers 429 + Retry-After."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        seconds = getattr(request, _RETRY_AFTER, None)
        if seconds is not None and response.status_code == 200:
            response.status_code = 429
            response.reason_phrase = "Too Many Requests"
            response["Retry-After"] = str(seconds)
        return response

    return middleware
