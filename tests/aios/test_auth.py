"""Sign-in: every page needs a user, email login, closed sign-up, rate limits, TOTP two-factor."""

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    # Rate-limit counters live in the database cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


def _sign_in(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def _totp_code(secret, offset=0):
    counters = list(yield_hotp_counters_from_time())
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2 + offset]))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/admin/", "/admin/core/client/", "/tokens/", "/accounts/2fa/"])
def test_pages_send_anonymous_visitors_to_the_login(client, path):
    response = client.get(path, follow=True)
    assert response.redirect_chain, "an anonymous visitor must be redirected"
    assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=")
    assert response.status_code == 200
    assert b'name="password"' in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/accounts/password/reset/", "/healthz"])
def test_login_and_password_reset_are_open(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_the_operator_signs_in_with_email(client, operator, workspace):
    response = _sign_in(client, "OPERATOR@example.com")
    assert response.status_code == 302
    assert response.url == reverse("home")
    home = client.get("/")
    assert home.status_code == 200
    assert b"Test Studio" in home.content


@pytest.mark.django_db
def test_a_wrong_password_does_not_sign_in(client, operator):
    response = _sign_in(client, operator.email, "wrong password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_nobody_can_sign_up_from_the_web(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "intruder@example.com", "password1": "x9!kLm#2pQ", "password2": "x9!kLm#2pQ"},
    )
    assert b"Sign Up Closed" in response.content or response.status_code in (403, 404)
    assert not get_user_model().objects.filter(email="intruder@example.com").exists()


@pytest.mark.django_db
def test_the_admin_needs_staff(client):
    user = UserFactory(email="helper@example.com")
    client.force_login(user)
    response = client.get("/admin/core/client/", follow=True)
    assert response.status_code == 403
    assert b"Client 1" not in response.content


@pytest.mark.django_db
def test_failed_sign_ins_are_rate_limited_per_account(client, operator, settings):
    for _ in range(5):
        assert _sign_in(client, operator.email, "wrong password").status_code == 200
    blocked = _sign_in(client, operator.email)
    # Even the right password is refused while the account is cooling down.
    assert "_auth_user_id" not in client.session
    assert blocked.status_code == 429
    assert b"Too many failed sign-ins" in blocked.content


@pytest.mark.django_db
def test_the_rate_limit_uses_a_real_shared_cache(settings):
    assert settings.CACHES["default"]["BACKEND"] != "django.core.cache.backends.dummy.DummyCache"
    cache.set("probe", 1)
    assert cache.get("probe") == 1


@pytest.mark.django_db
def test_the_operator_can_enable_totp_and_then_needs_a_code(client, operator, settings):
    # One step of clock tolerance lets the test use two different codes without waiting 30 s.
    settings.MFA_TOTP_TOLERANCE = 1
    assert _sign_in(client, operator.email).status_code == 302
    # Turning on two-factor is sensitive: allauth asks for the password again first.
    assert client.get(reverse("mfa_activate_totp")).url.startswith(reverse("account_reauthenticate"))
    assert client.post(reverse("account_reauthenticate"), {"password": PASSWORD}).status_code == 302
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = page.context["form"].secret

    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=operator, type=Authenticator.Type.TOTP).exists()

    activated = client.post(reverse("mfa_activate_totp"), {"code": _totp_code(secret)})
    assert activated.status_code == 302
    assert Authenticator.objects.filter(user=operator, type=Authenticator.Type.TOTP).exists()

    client.logout()
    step_one = _sign_in(client, operator.email)
    assert step_one.status_code == 302
    assert step_one.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302

    rejected = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert rejected.status_code == 200
    assert "_auth_user_id" not in client.session

    accepted = client.post(reverse("mfa_authenticate"), {"code": _totp_code(secret, offset=1)})
    assert accepted.status_code == 302
    assert client.get("/").status_code == 200
