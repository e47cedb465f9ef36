"""Personal API tokens: created, checked, revoked, and authenticated."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from core import clock
from core.models import ApiToken


def api_token_hash(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_check(*, name: str, expires_at: dt.datetime | None) -> str:
    """Validate a new token's name and expiry; returns the cleaned name."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name the token after where it will be used."})
    if expires_at is not None and expires_at <= clock.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    return name


@transaction.atomic
def api_token_create(
    *, user: AbstractBaseUser, name: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and never shown again."""
    name = api_token_check(name=name, expires_at=expires_at)
    raw = settings.AIOS_API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=raw[: len(settings.AIOS_API_TOKEN_PREFIX) + 6],
        token_hash=api_token_hash(raw),
        expires_at=expires_at,
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The live token for `raw`, with its user, or None. Records when it was last used."""
    if not raw or not raw.startswith(settings.AIOS_API_TOKEN_PREFIX):
        return None
    now = clock.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=api_token_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    # One write a minute at most: last-used time is for the operator's eyes, not an audit trail.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(seconds=60):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
