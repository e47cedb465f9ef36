"""The signed inbound webhook: POST /api/v1/inbound/email, a raw mail signed with HMAC-SHA256."""

import hashlib
import time

import pytest
from django.test import Client

from connectors.models import InboundMail
from core.models import Message
from tests.connectors import mails

pytestmark = pytest.mark.django_db
URL = "/api/v1/inbound/email"
SECRET = "whsec-0123456789abcdef0123456789abcdef"


@pytest.fixture
def secret(settings):
    settings.AIOS_INBOUND_WEBHOOK_SECRET = SECRET
    return SECRET


@pytest.fixture
def web():
    # CSRF enforced as in production: the webhook is called by a mail provider, not a browser.
    return Client(enforce_csrf_checks=True)


def post(web, body: bytes, *, content_type="message/rfc822", **headers):
    return web.post(URL, data=body, content_type=content_type, **headers)


def test_a_signed_mail_is_imported_202(web, secret):
    body = mails.mail()

    response = post(web, body, **mails.sign(body, secret))

    assert response.status_code == 202, response.content
    inbound = InboundMail.objects.get()
    assert response.json() == {
        "status": "imported",
        "inbound_id": inbound.pk,
        "message_id": "inquiry-1@client.example",
    }
    assert (inbound.path, bytes(inbound.raw)) == ("webhook", body)
    assert Message.objects.get().message_id == "inquiry-1@client.example"


def test_the_same_mail_again_is_a_duplicate_and_malformed_mail_goes_to_review(web, secret):
    body = mails.mail()
    post(web, body, **mails.sign(body, secret))

    again = post(web, body, content_type="application/octet-stream", **mails.sign(body, secret))
    broken = post(web, mails.no_message_id(), **mails.sign(mails.no_message_id(), secret))

    assert (again.status_code, again.json()["status"]) == (202, "duplicate")
    assert (broken.status_code, broken.json()["status"], broken.json()["message_id"]) == (202, "review", None)
    assert Message.objects.count() == 1


def test_a_mail_larger_than_the_upload_limit_of_django_forms_is_accepted(web, secret, settings):
    """DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) guards form posts; a mail may be up to AIOS_MAIL_MAX_BYTES."""
    body = mails.mail(attachments=(("deck.pdf", "application/pdf", b"%PDF" + b"x" * 3_000_000),))
    assert len(body) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = post(web, body, **mails.sign(body, secret))

    assert (response.status_code, response.json()["status"]) == (202, "imported")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_AIOS_TIMESTAMP": str(int(time.time()))},
        {"HTTP_X_AIOS_TIMESTAMP": str(int(time.time())), "HTTP_X_AIOS_SIGNATURE": "sha256=" + "0" * 64},
        {"HTTP_X_AIOS_TIMESTAMP": str(int(time.time())), "HTTP_X_AIOS_SIGNATURE": "sha256=é"},
    ],
    ids=["no headers", "no signature", "wrong signature", "garbage signature"],
)
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(web, secret, headers):
    response = post(web, mails.mail(), **headers)

    assert response.status_code == 401
    assert "signature" in response.json()["detail"].lower() or "sign" in response.json()["detail"].lower()
    assert InboundMail.objects.count() == 0
    assert Message.objects.count() == 0


def test_a_signature_with_another_secret_or_over_another_body_is_401(web, secret):
    body = mails.mail()

    other_secret = post(web, body, **mails.sign(body, "another-secret-of-at-least-32-characters"))
    other_body = post(web, body, **mails.sign(mails.mail(subject="Other"), secret))

    assert (other_secret.status_code, other_body.status_code) == (401, 401)
    assert InboundMail.objects.count() == 0


@pytest.mark.parametrize("offset", [-301, 301, -3600])
def test_a_timestamp_outside_the_window_is_refused_as_a_replay(web, secret, frozen_clock, offset):
    body = mails.mail()

    response = post(web, body, **mails.sign(body, secret, timestamp=int(frozen_clock.timestamp()) + offset))

    assert response.status_code == 401
    assert response.json() == {
        "detail": "The timestamp is more than 300 seconds away from now: refused as a replay."
    }
    assert InboundMail.objects.count() == 0


@pytest.mark.parametrize("offset", [-300, 300, -250])
def test_a_timestamp_inside_the_window_is_accepted(web, secret, frozen_clock, offset):
    body = mails.mail()

    response = post(web, body, **mails.sign(body, secret, timestamp=int(frozen_clock.timestamp()) + offset))

    assert response.status_code == 202


def test_without_a_secret_the_webhook_is_closed_503(web, settings):
    settings.AIOS_INBOUND_WEBHOOK_SECRET = ""
    body = mails.mail()

    response = post(web, body, **mails.sign(body, "anything"))

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The inbound webhook is not configured: set AIOS_INBOUND_WEBHOOK_SECRET."
    }
    assert InboundMail.objects.count() == 0


def test_a_mail_over_the_mail_limit_is_kept_in_review_with_its_bytes(web, secret, settings):
    """As over IMAP: an oversized mail is not imported but waits for the operator, bytes and all."""
    settings.AIOS_MAIL_MAX_BYTES = 2048
    body = mails.mail(body="x" * 4000)

    response = post(web, body, **mails.sign(body, secret))

    assert response.status_code == 202, response.content
    inbound = InboundMail.objects.get()
    # Not parsed (too big to import), so its Message-ID is not read either.
    assert response.json() == {"status": "review", "inbound_id": inbound.pk, "message_id": None}
    assert (inbound.status, inbound.path, bytes(inbound.raw), inbound.size) == (
        "review",
        "webhook",
        body,
        len(body),
    )
    assert "AIOS_MAIL_MAX_BYTES" in inbound.reason
    assert Message.objects.count() == 0


def test_a_body_over_the_hard_cap_is_413_and_stores_nothing(web, secret, settings):
    settings.AIOS_MAIL_MAX_BYTES = 2048
    settings.AIOS_INBOUND_WEBHOOK_MAX_BYTES = 3000
    body = mails.mail(body="x" * 4000)

    response = post(web, body, **mails.sign(body, secret))

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The mail is larger than the webhook's hard limit of 3000 bytes "
        "(AIOS_INBOUND_WEBHOOK_MAX_BYTES); nothing was stored."
    }
    assert InboundMail.objects.count() == 0


def test_a_30_mb_mail_is_kept_in_review_under_the_default_cap(web, secret, settings):
    """The issue's case: a 30 MB mail (over the 25 MB mail limit) used to be refused and lost."""
    assert settings.AIOS_MAIL_MAX_BYTES < 30_000_000 < settings.AIOS_INBOUND_WEBHOOK_MAX_BYTES
    body = mails.mail(attachments=(("scan.tiff", "image/tiff", b"II*\x00" + b"\x01" * 22_000_000),))
    assert len(body) > 29_000_000

    response = post(web, body, **mails.sign(body, secret))

    assert (response.status_code, response.json()["status"]) == (202, "review")
    inbound = InboundMail.objects.get()
    assert (inbound.size, inbound.sha256) == (len(body), hashlib.sha256(body).hexdigest())


def test_another_content_type_is_415(web, secret):
    body = mails.mail()

    response = post(web, body, content_type="application/json", **mails.sign(body, secret))

    assert response.status_code == 415
    assert InboundMail.objects.count() == 0


def test_the_operators_credentials_are_not_needed_and_not_enough(operator_client, secret):
    """Signed in as staff but unsigned: still 401 — the webhook trusts signatures only."""
    response = operator_client.post(URL, data=mails.mail(), content_type="message/rfc822")

    assert response.status_code == 401
    assert InboundMail.objects.count() == 0
