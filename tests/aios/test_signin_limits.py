"""Failed sign-in limits (aios/signin_limits.py, ADR 0010): 429 with Retry-After and a clear message, per
account from one address, per address, per account everywhere except networks it signed in from — and
nobody elsewhere can lock the operator out of their own network."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.factories import OperatorFactory, UserFactory

PASSWORD = "correct horse battery staple"
HOME = "127.0.0.1"
ELSEWHERE = "203.0.113.7"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    # Rate-limit counters live in the database cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def operator(db):
    return OperatorFactory()


def sign_in(client, email, password=PASSWORD, *, ip=HOME, **extra):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip, **extra
    )


def assert_refused(response, client):
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert b"Too many failed sign-ins for this account from your network. Try again in" in response.content
    assert "_auth_user_id" not in client.session


def test_five_wrong_passwords_then_429_even_for_the_right_one(client, operator):
    for _ in range(5):
        wrong = sign_in(client, operator.email, "wrong password")
        assert wrong.status_code == 200
        assert "_auth_user_id" not in client.session

    blocked = sign_in(client, operator.email)

    assert_refused(blocked, client)
    assert 290 <= int(blocked["Retry-After"]) <= 300
    assert b"Try again in 5 minutes" in blocked.content


def test_someone_elses_wrong_passwords_from_another_address_do_not_lock_the_operator_out(
    client, operator, django_user_model
):
    stranger = client.__class__()
    for attempt in range(8):
        response = sign_in(stranger, operator.email, f"guess {attempt}", ip=ELSEWHERE)
    assert_refused(response, stranger)

    mine = sign_in(client, operator.email, ip=HOME)

    assert mine.status_code == 302
    assert client.session["_auth_user_id"] == str(operator.pk)


def test_guessing_from_many_addresses_stops_but_not_the_operators_known_network(client, operator, settings):
    settings.AIOS_LOGIN_ACCOUNT_LIMIT = 6
    # The operator signed in from home before: that network is theirs from now on.
    assert sign_in(client, operator.email, ip=HOME).status_code == 302
    client.logout()
    attackers = [f"198.51.{n}.9" for n in range(10)]
    answers = [sign_in(client.__class__(), operator.email, "guess", ip=ip).status_code for ip in attackers]
    assert answers == [200] * 6 + [429] * 4

    # Another new network is refused as well (the account-wide limit) ...
    traveller = client.__class__()
    assert_refused(sign_in(traveller, operator.email, ip="192.0.2.50"), traveller)
    # ... but from the known network (another address in the same /24, e.g. a new DHCP lease) the
    # operator signs in.
    assert sign_in(client, operator.email, ip="127.0.0.77").status_code == 302
    assert client.session["_auth_user_id"] == str(operator.pk)


def test_one_address_trying_many_accounts_is_stopped(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "4/600s/ip,5/300s/key"}
    users = [UserFactory(email=f"user{n}@example.com") for n in range(6)]
    answers = [sign_in(client, user.email, "wrong", ip=ELSEWHERE).status_code for user in users]
    assert answers == [200] * 4 + [429] * 2
    # Another address is not affected.
    other = client.__class__()
    assert sign_in(other, users[5].email, "wrong", ip="192.0.2.80").status_code == 200


def test_behind_the_tls_proxy_each_client_address_counts_on_its_own(client, operator, settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for _ in range(5):
        sign_in(client, operator.email, "wrong", ip=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE)
    assert_refused(sign_in(client, operator.email, ip=proxy, HTTP_X_FORWARDED_FOR=ELSEWHERE), client)

    mine = client.__class__()
    response = sign_in(mine, operator.email, ip=proxy, HTTP_X_FORWARDED_FOR="192.0.2.10")
    assert response.status_code == 302


def test_a_right_password_does_not_use_up_the_limit(client, operator):
    for _ in range(10):
        assert sign_in(client, operator.email).status_code == 302
        client.logout()
    for _ in range(4):
        assert sign_in(client, operator.email, "wrong").status_code == 200
    assert sign_in(client, operator.email).status_code == 302


def test_a_password_reset_by_mail_lifts_the_limit(client, operator, mailoutbox):
    for _ in range(5):
        sign_in(client, operator.email, "wrong")
    assert_refused(sign_in(client, operator.email), client)

    client.post(reverse("account_reset_password"), {"email": operator.email}, REMOTE_ADDR=HOME)
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mailoutbox[-1].body).group(1)
    page = client.get(link, follow=True, REMOTE_ADDR=HOME)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    new_password = "a brand new horse battery staple"
    done = client.post(form_url, {"password1": new_password, "password2": new_password}, REMOTE_ADDR=HOME)
    assert done.status_code == 302, done.content

    assert sign_in(client, operator.email, new_password).status_code == 302
    assert client.session["_auth_user_id"] == str(operator.pk)


def test_allauths_own_request_limit_answers_429_with_retry_after(client, operator, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    for _ in range(2):
        assert sign_in(client, operator.email).status_code == 302
        client.logout()

    third = sign_in(client, operator.email)

    assert third.status_code == 429
    assert third["Retry-After"] == "60"
    assert b"Wait a minute, then try again." in third.content
    assert "_auth_user_id" not in client.session
