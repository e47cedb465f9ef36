"""Web hardening (ADR 0010): staff-only overview and API docs, no-store on private pages, the
Content-Security-Policy header, HTTPS settings with production defaults, and `check --deploy` clean with
the production environment the README lists."""

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client as HttpClient

from core import services
from tests.factories import ClientFactory, InvoiceFactory, UserFactory
from tests.ledger.approval_states import pending_approval
from tests.ledger.states import waiting_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def helper(client):
    """A signed-in user who is not staff (e.g. an assistant's account)."""
    user = UserFactory(email="helper@example.com")
    client.force_login(user)
    return client


# --- Staff only ------------------------------------------------------------------------------------


def test_the_overview_is_for_staff_only(helper, workspace, operator):
    InvoiceFactory(client=ClientFactory(name="Berg Bakery AB"))

    response = helper.get("/")

    assert response.status_code == 403
    assert b"Test Studio" not in response.content and b"Berg Bakery" not in response.content


def test_the_operator_sees_the_overview(operator_client, workspace):
    response = operator_client.get("/")
    assert response.status_code == 200
    assert b"Test Studio" in response.content


@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/openapi.json"])
def test_the_api_docs_and_schema_refuse_a_signed_in_non_staff_user(helper, path):
    response = helper.get(path)

    assert response.status_code == 403
    assert b"openapi" not in response.content.lower() and b"/api/v1/clients" not in response.content


@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/openapi.json"])
def test_the_api_docs_and_schema_send_anonymous_visitors_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=")


def test_the_schema_opens_to_a_staff_token_and_not_to_other_tokens(operator):
    _, staff_raw = services.api_token_create(user=operator, name="client generator")
    _, helper_raw = services.api_token_create(user=UserFactory(), name="not staff")

    staff = HttpClient(headers={"Authorization": f"Bearer {staff_raw}"}).get("/api/v1/openapi.json")
    other = HttpClient(headers={"Authorization": f"Bearer {helper_raw}"}).get("/api/v1/openapi.json")
    bad = HttpClient(headers={"Authorization": "Bearer aios_wrong"}).get("/api/v1/openapi.json")

    assert staff.status_code == 200 and "/api/v1/clients" in staff.json()["paths"]
    assert other.status_code == 403 and b"/api/v1/clients" not in other.content
    assert bad.status_code == 401 and bad.json() == {"detail": "Unauthorized"}


def test_the_operator_reads_the_docs_page(operator_client):
    response = operator_client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content


# --- Caching ---------------------------------------------------------------------------------------


def test_private_pages_and_api_answers_are_never_stored(operator_client, operator):
    approval = pending_approval()
    task = waiting_email(operator)
    _, raw = services.api_token_create(user=operator, name="cache check")
    pages = [
        "/approvals/",
        f"/approvals/{approval.pk}/",
        "/tasks/",
        f"/tasks/{task.pk}/",
        "/tokens/",
        "/",
        "/admin/",
        "/admin/core/client/",
    ]
    for path in pages:
        response = operator_client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], (path, response["Cache-Control"])
        assert "private" in response["Cache-Control"]

    answer = HttpClient(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/tasks")
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]


def test_static_files_stay_cacheable(client):
    response = client.get("/static/aios/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# --- Content-Security-Policy -----------------------------------------------------------------------


def test_every_page_carries_a_strict_content_security_policy(operator_client, client):
    for response in (operator_client.get("/approvals/"), client.get("/accounts/login/")):
        policy = dict(
            (part.split()[0], part.split()[1:]) for part in response["Content-Security-Policy"].split("; ")
        )
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["default-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_no_template_of_ours_has_inline_script_or_style():
    """The policy allows no inline code, so none may creep back into a template. The invoice document's
    templates (templates/invoicing/) are laid out by WeasyPrint into a PDF and never served as a page."""
    offenders = []
    for path in (settings.BASE_DIR / "templates").rglob("*.html"):
        if path.parent.name == "invoicing":
            continue
        text = path.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>",
            r"<style\b",
            r"\sstyle=",
            r"\son\w+=",
        ):
            if re.search(pattern, text):
                offenders.append((str(path.relative_to(settings.BASE_DIR)), pattern))
    assert offenders == []


# --- HTTPS -----------------------------------------------------------------------------------------


def test_production_settings_redirect_to_https_and_send_hsts(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    plain = client.get("/accounts/login/")
    behind_tls = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")

    assert plain.status_code == 301 and plain.url == "https://testserver/accounts/login/"
    # A supervisor's or load balancer's probe reaches the web process directly, over http.
    assert client.get("/healthz").status_code == 200
    assert behind_tls.status_code == 200
    assert behind_tls["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def readme_production_env() -> dict[str, str]:
    readme = (settings.BASE_DIR / "README.md").read_text()
    block = re.search(r"<!-- production-env -->\s*```\n(.*?)```", readme, re.DOTALL)
    assert block, "the README's production section lists its environment after <!-- production-env -->"
    return dict(line.strip().split("=", 1) for line in block.group(1).splitlines() if line.strip())


PLACEHOLDERS = {
    "<db-password>": "s3cret",
    "<db-host>": "db.internal",
}


def _manage(env_vars: dict[str, str], tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AIOS_") and key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(DJANGO_SETTINGS_MODULE="aios.settings", AIOS_DATA_DIR=str(tmp_path), **env_vars)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_check_deploy_is_clean_with_the_readmes_production_env(tmp_path):
    production = {}
    for name, value in readme_production_env().items():
        if name == "AIOS_SECRET_KEY":
            value = secrets.token_urlsafe(50)
        for placeholder, stand_in in PLACEHOLDERS.items():
            value = value.replace(placeholder, stand_in)
        assert "<" not in value, f"{name}: unknown placeholder in {value!r}"
        production[name] = value

    result = _manage(production, tmp_path, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_on_a_plain_http_site(tmp_path):
    """The same check without the production env: proves it would catch the missing settings."""
    local = {
        "DATABASE_URL": "postgres://aios:s3cret@db.internal:5432/aios",
        "AIOS_SECRET_KEY": secrets.token_urlsafe(50),
        "AIOS_ALLOWED_HOSTS": "workspace.example.com",
    }

    result = _manage(local, tmp_path, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


def test_an_https_site_gets_the_secure_defaults_without_further_settings(tmp_path):
    env = {
        "DATABASE_URL": "postgres://aios:s3cret@db.internal:5432/aios",
        "AIOS_SITE_URL": "https://workspace.example.com",
    }
    code = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_PROXY_SSL_HEADER, s.ALLAUTH_TRUSTED_PROXY_COUNT)"
    )

    result = _manage(env, tmp_path, "shell", "-c", code)

    assert result.returncode == 0, result.stderr
    secure = "True 31536000 True True True ('HTTP_X_FORWARDED_PROTO', 'https') 1"
    assert result.stdout.strip().splitlines()[-1] == secure

    opted_out = _manage(
        {**env, "AIOS_PROXY_SSL_HEADER": "", "AIOS_HSTS_SECONDS": "0"}, tmp_path, "shell", "-c", code
    )
    assert opted_out.stdout.strip().splitlines()[-1] == "True 0 True True True None 0"
