"""The signed webhook behind the production web server (gunicorn): a body sent with
`Transfer-Encoding: chunked` (no Content-Length) is read whole, its signature checks, and the mail is
imported; a chunked body over the hard cap is refused with 413 and nothing is stored."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import urllib.parse

import pytest
from django.conf import settings
from django.db import connection

from connectors.models import InboundMail
from core.models import Message
from tests.connectors import mails

SECRET = "whsec-chunked-0123456789abcdef0123456789"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    host = urllib.parse.quote(str(db["HOST"]), safe="")
    password = f":{urllib.parse.quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="module")
def gunicorn_port(django_db_setup, tmp_path_factory):
    """gunicorn serving the workspace on a free loopback port, against the test database."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIOS_")}
    env.update(
        DJANGO_SETTINGS_MODULE="aios.settings",
        DATABASE_URL=_database_url(),
        AIOS_DATA_DIR=str(tmp_path),
        AIOS_SECRET_KEY="chunked-test-secret-key-that-is-long-enough-for-django",
        AIOS_INBOUND_WEBHOOK_SECRET=SECRET,
        AIOS_MAIL_MAX_BYTES="2048",
        AIOS_INBOUND_WEBHOOK_MAX_BYTES="65536",
        AIOS_DB_CONN_MAX_AGE="0",
    )
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "aios.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--timeout", "60"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            probe.request("GET", "/healthz")
            if probe.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.3)
    else:
        raise AssertionError("gunicorn did not answer:\n" + (tmp_path / "gunicorn.log").read_text())
    yield port
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture
def gunicorn(gunicorn_port, transactional_db):
    # Each test's rows are written by gunicorn's own connection, so the tables are emptied after it.
    return gunicorn_port


def _post_chunked(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    pieces = (body[index : index + 1000] for index in range(0, len(body), 1000))
    # An iterable body without Content-Length: http.client sends it as Transfer-Encoding: chunked.
    connection_.request(
        "POST",
        "/api/v1/inbound/email",
        body=pieces,
        headers={"Content-Type": "message/rfc822", **headers},
        encode_chunked=True,
    )
    response = connection_.getresponse()
    return response.status, response.read()


def _signature_headers(body: bytes) -> dict[str, str]:
    signed = mails.sign(body, SECRET)
    return {
        "X-AIOS-Timestamp": signed["HTTP_X_AIOS_TIMESTAMP"],
        "X-AIOS-Signature": signed["HTTP_X_AIOS_SIGNATURE"],
    }


def test_a_chunked_signed_mail_is_imported(gunicorn):
    body = mails.mail(body="A chunked delivery.\r\n" * 40)
    assert len(body) < 2048

    status, answer = _post_chunked(gunicorn, body, _signature_headers(body))

    assert status == 202, answer
    inbound = InboundMail.objects.get()
    assert (inbound.status, inbound.path, bytes(inbound.raw)) == ("imported", "webhook", body)
    assert Message.objects.get().message_id == "inquiry-1@client.example"


def test_a_chunked_mail_over_the_mail_limit_is_kept_in_review(gunicorn):
    body = mails.mail(body="x" * 10_000)

    status, answer = _post_chunked(gunicorn, body, _signature_headers(body))

    assert status == 202, answer
    inbound = InboundMail.objects.get()
    assert (inbound.status, bytes(inbound.raw)) == ("review", body)
    assert Message.objects.count() == 0


def test_a_chunked_body_over_the_hard_cap_is_413_and_stores_nothing(gunicorn):
    body = mails.mail(body="x" * 70_000)

    status, answer = _post_chunked(gunicorn, body, _signature_headers(body))

    assert status == 413, answer
    assert b"AIOS_INBOUND_WEBHOOK_MAX_BYTES" in answer
    assert InboundMail.objects.count() == 0


def test_a_chunked_body_with_a_wrong_signature_is_401(gunicorn):
    body = mails.mail()

    status, _ = _post_chunked(gunicorn, body, _signature_headers(mails.mail(subject="Another")))

    assert status == 401
    assert InboundMail.objects.count() == 0
