"""Personal API tokens: the /tokens/ page and the back office. Secrets are shown once, stored hashed."""

import datetime as dt
import hashlib
import re

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import services
from core.models import ApiToken
from tests.factories import UserFactory

SECRET = re.compile(r"aios_[A-Za-z0-9_-]{40,}")


def api_status(raw: str) -> int:
    return HttpClient().get("/api/v1/clients", headers={"Authorization": f"Bearer {raw}"}).status_code


# --- The /tokens/ page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_token_is_shown_once_and_works(operator_client, operator):
    created = operator_client.post("/tokens/", {"name": "Invoicing script", "expires_at": ""})

    assert created.status_code == 200
    secret = SECRET.search(created.content.decode()).group(0)
    token = ApiToken.objects.get(user=operator)
    assert (token.name, token.expires_at) == ("Invoicing script", None)
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert "no-store" in created["Cache-Control"]
    assert api_status(secret) == 200

    listing = operator_client.get("/tokens/")
    assert listing.status_code == 200
    assert secret not in listing.content.decode()
    assert not SECRET.search(listing.content.decode())
    assert token.prefix in listing.content.decode()


@pytest.mark.django_db
def test_a_token_can_have_an_expiry(operator_client, operator):
    # Noon: a wall-clock time that exists exactly once on every day, also on a DST change.
    in_a_month = timezone.localtime() + dt.timedelta(days=30)
    expiry = in_a_month.replace(hour=12, minute=0, second=0, microsecond=0)

    operator_client.post("/tokens/", {"name": "Trial", "expires_at": expiry.strftime("%Y-%m-%dT%H:%M")})

    assert ApiToken.objects.get(user=operator).expires_at == expiry


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "Old", "expires_at": "2020-01-01T10:00"}, "The expiry must be in the future."),
        ({"name": "   "}, "This field is required."),
        ({"name": "Bad date", "expires_at": "soon"}, "Enter a valid date/time."),
    ],
)
def test_a_bad_token_form_creates_nothing(operator_client, form, message):
    response = operator_client.post("/tokens/", form)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SECRET.search(response.content.decode())
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_the_page_lists_only_the_users_own_tokens(operator_client, operator):
    services.api_token_create(user=operator, name="Mine")
    services.api_token_create(user=UserFactory(is_staff=True), name="Someone else's")

    content = operator_client.get("/tokens/").content.decode()

    assert "Mine" in content
    assert "Someone else" not in content


@pytest.mark.django_db
def test_revoking_on_the_page_stops_the_token(operator_client, operator):
    token, raw = services.api_token_create(user=operator, name="Laptop")
    assert api_status(raw) == 200

    response = operator_client.post(f"/tokens/{token.pk}/revoke", follow=True)

    assert response.status_code == 200
    assert "is revoked" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert api_status(raw) == 401


@pytest.mark.django_db
def test_revoking_needs_a_post_with_csrf_and_ones_own_token(operator):
    mine, mine_raw = services.api_token_create(user=operator, name="Mine")
    theirs, theirs_raw = services.api_token_create(user=UserFactory(is_staff=True), name="Theirs")
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(operator)

    assert browser.get(f"/tokens/{mine.pk}/revoke").status_code == 405
    assert browser.post(f"/tokens/{mine.pk}/revoke").status_code == 403  # no CSRF token
    browser.get("/tokens/")
    csrf = {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value}
    assert browser.post(f"/tokens/{theirs.pk}/revoke", csrf).status_code == 404

    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 0
    assert (api_status(mine_raw), api_status(theirs_raw)) == (200, 200)


@pytest.mark.django_db
def test_users_who_are_not_staff_have_no_token_page(client):
    client.force_login(UserFactory())

    assert client.get("/tokens/").status_code == 403
    assert client.post("/tokens/", {"name": "Sneaky"}).status_code == 403
    assert not ApiToken.objects.exists()


# --- The back office -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_adds_a_token_through_the_service_and_shows_it_once(operator_client, operator):
    response = operator_client.post(
        "/admin/core/apitoken/add/",
        {
            "user": operator.pk,
            "name": "CI",
            "expires_at_0": "",
            "expires_at_1": "",
        },
        follow=True,
    )

    token = ApiToken.objects.get()
    secrets_shown = SECRET.findall(response.content.decode())
    assert len(secrets_shown) == 1
    secret = secrets_shown[0]
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix)
    assert api_status(secret) == 200

    for page in ["/admin/core/apitoken/", f"/admin/core/apitoken/{token.pk}/change/"]:
        content = operator_client.get(page).content.decode()
        assert token.prefix in content
        assert secret not in content
        assert token.token_hash not in content


@pytest.mark.django_db
def test_the_admin_refuses_a_past_expiry_and_users_who_cannot_use_the_api(operator_client, operator):
    outsider = UserFactory()
    past = operator_client.post(
        "/admin/core/apitoken/add/",
        {
            "user": operator.pk,
            "name": "Old",
            "expires_at_0": "2020-01-01",
            "expires_at_1": "10:00",
        },
    )
    wrong_user = operator_client.post("/admin/core/apitoken/add/", {"user": outsider.pk, "name": "Helper"})

    assert past.status_code == 200 and "The expiry must be in the future." in past.content.decode()
    assert wrong_user.status_code == 200 and "Select a valid choice" in wrong_user.content.decode()
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_an_existing_token_cannot_be_edited_in_the_admin(operator_client, operator):
    token, raw = services.api_token_create(user=operator, name="Laptop")

    operator_client.post(f"/admin/core/apitoken/{token.pk}/change/", {"user": operator.pk, "name": "Renamed"})

    token.refresh_from_db()
    assert token.name == "Laptop"
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()


@pytest.mark.django_db
def test_the_admin_revokes_selected_tokens(operator_client, operator):
    first, first_raw = services.api_token_create(user=operator, name="One")
    second, second_raw = services.api_token_create(user=operator, name="Two")
    kept, kept_raw = services.api_token_create(user=operator, name="Kept")

    response = operator_client.post(
        "/admin/core/apitoken/",
        {
            "action": "revoke_selected",
            "_selected_action": [first.pk, second.pk],
        },
        follow=True,
    )

    assert "Revoked 2 token(s)." in response.content.decode()
    revoked = ApiToken.objects.filter(revoked_at__isnull=False).values_list("pk", flat=True)
    assert set(revoked) == {first.pk, second.pk}
    assert (api_status(first_raw), api_status(second_raw), api_status(kept_raw)) == (401, 401, 200)


@pytest.mark.django_db
def test_the_admin_token_list_queries_do_not_grow_with_rows(operator_client):
    def add_tokens(n):
        for _ in range(n):
            services.api_token_create(user=UserFactory(is_staff=True), name="Token")

    def list_queries():
        with CaptureQueriesContext(connection) as captured:
            assert operator_client.get("/admin/core/apitoken/").status_code == 200
        return len(captured)

    add_tokens(3)
    operator_client.get("/admin/core/apitoken/")
    few = list_queries()
    add_tokens(6)
    assert list_queries() == few
