"""Who may use the JSON API: tokens, sessions with CSRF, staff only; the docs behind the sign-in."""

import datetime as dt
import hashlib

import pytest
from django.test import Client as HttpClient
from django.urls import resolve
from django.utils import timezone

from core import services
from core.models import ApiToken, Client
from tests.factories import UserFactory

NEW_CLIENT = {"name": "Berg Bakery AB"}


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def create_client(http, **headers):
    return http.post("/api/v1/clients", NEW_CLIENT, content_type="application/json", headers=headers)


@pytest.fixture
def token(operator):
    """(token, raw secret) of the operator."""
    return services.api_token_create(user=operator, name="tests")


@pytest.mark.django_db
def test_without_credentials_the_api_answers_401_json_not_a_login_redirect(client):
    listing = client.get("/api/v1/clients")
    creation = create_client(client)

    assert listing.status_code == 401
    assert listing.json() == {"detail": "Unauthorized"}
    assert creation.status_code == 401
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_api_views_are_exempt_from_the_login_middleware_and_the_docs_check_staff_themselves():
    assert resolve("/api/v1/clients").func.login_required is False
    assert resolve("/api/v1/invoices/1/issue").func.login_required is False
    # The docs and schema take a staff session or a staff token (aios.api.staff_docs, ADR 0010):
    # tests/aios/test_web_hardening.py checks who gets what.
    for path in ("/api/v1/docs", "/api/v1/openapi.json"):
        view = resolve(path).func
        assert view.login_required is False
        assert view.__qualname__ == "staff_docs.<locals>.wrapped"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer not-a-token",
        "Bearer aios_thisIsTheRightPrefixButNoSuchTokenExists000000000",
        "Bearer ",
        "Token aios_whatever",
        "Basic b3BlcmF0b3I6cGFzc3dvcmQ=",
    ],
)
def test_a_bad_token_is_401(client, token, authorization):
    response = create_client(client, Authorization=authorization)
    assert response.status_code == 401
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_a_valid_token_works_and_its_use_is_recorded(client, token):
    api_token, raw = token
    assert api_token.last_used_at is None

    response = client.get("/api/v1/clients", headers=bearer(raw))

    assert response.status_code == 200
    api_token.refresh_from_db()
    assert api_token.last_used_at is not None
    assert timezone.now() - api_token.last_used_at < dt.timedelta(seconds=30)


@pytest.mark.django_db
def test_a_revoked_token_is_401(client, token):
    api_token, raw = token
    assert client.get("/api/v1/clients", headers=bearer(raw)).status_code == 200
    services.api_token_revoke(token=api_token)

    response = create_client(client, **bearer(raw))

    assert response.status_code == 401
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_an_expired_token_is_401(client, token):
    api_token, raw = token
    ApiToken.objects.filter(pk=api_token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = create_client(client, **bearer(raw))

    assert response.status_code == 401
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_a_valid_token_of_an_inactive_user_is_401(client, operator, token):
    _, raw = token
    operator.is_active = False
    operator.save(update_fields=["is_active"])

    response = create_client(client, **bearer(raw))

    assert response.status_code == 401
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_a_token_of_a_user_who_is_not_staff_is_403(client):
    _, raw = services.api_token_create(user=UserFactory(), name="helper")

    response = create_client(client, **bearer(raw))

    assert response.status_code == 403
    assert response.json() == {"detail": "The API is open to staff users only."}
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_the_token_is_stored_only_as_its_hash(token):
    api_token, raw = token
    row = ApiToken.objects.filter(pk=api_token.pk).values().get()

    assert row["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert not any(raw in str(value) for value in row.values())
    assert raw.startswith(row["prefix"]) and len(row["prefix"]) < len(raw) // 4


@pytest.mark.django_db
def test_changes_made_with_a_token_name_its_user_in_history(client, operator, token):
    response = create_client(client, **bearer(token[1]))

    assert response.status_code == 201
    created = Client.objects.get(pk=response.json()["id"])
    assert list(created.history.values_list("history_type", "history_user")) == [("+", operator.pk)]


@pytest.mark.django_db
def test_a_signed_in_operator_reads_with_the_session(operator_client):
    response = operator_client.get("/api/v1/clients")
    assert response.status_code == 200
    assert response.json() == {"items": [], "count": 0}


@pytest.mark.django_db
def test_session_writes_need_the_csrf_token(operator):
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(operator)

    refused = create_client(browser)
    assert refused.status_code == 403
    assert not Client.objects.exists()

    browser.get("/tokens/")  # any page with a form sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = create_client(browser, **{"X-CSRFToken": csrf})
    assert accepted.status_code == 201
    assert Client.objects.get().history.get().history_user == operator


@pytest.mark.django_db
def test_token_writes_need_no_csrf_token(token):
    # A browser never adds an Authorization header on its own, so another site cannot forge one.
    script = HttpClient(enforce_csrf_checks=True)
    response = create_client(script, **bearer(token[1]))
    assert response.status_code == 201


@pytest.mark.django_db
def test_a_signed_in_user_who_is_not_staff_is_403(client):
    client.force_login(UserFactory())
    response = create_client(client)
    assert response.status_code == 403
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_the_docs_render_for_a_signed_in_operator(operator_client):
    response = operator_client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


@pytest.mark.django_db
def test_the_openapi_schema_lists_the_endpoints(operator_client):
    response = operator_client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "AIOS Workspace API"
    for path in [
        "/api/v1/clients",
        "/api/v1/contacts/{contact_id}",
        "/api/v1/projects",
        "/api/v1/proposals",
        "/api/v1/proposals/{proposal_id}/transition",
        "/api/v1/invoices/{invoice_id}/issue",
        "/api/v1/invoices/{invoice_id}/void",
    ]:
        assert path in schema["paths"]
    assert set(schema["paths"]["/api/v1/clients/{client_id}"]) == {"get", "patch"}
    assert schema["components"]["securitySchemes"]["ApiTokenAuth"] == {"type": "http", "scheme": "bearer"}
    assert schema["paths"]["/api/v1/clients"]["get"]["security"] == [
        {"ApiTokenAuth": []},
        {"StaffSessionAuth": []},
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/openapi.json"])
def test_the_docs_send_anonymous_visitors_to_the_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")
