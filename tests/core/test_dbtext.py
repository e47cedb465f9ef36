"""Text PostgreSQL refuses (NUL, lone surrogates) is cleaned at one boundary, the database backend (aios.db,
core.dbtext), for every way a value reaches the database: model saves, `.update()`, JSON fields (where the
NUL is the escape \\u0000), raw SQL parameters and lookups — and raw bytes pass unchanged."""

from __future__ import annotations

import pytest
from django.db import connection

from connectors.models import InboundMail
from core.dbtext import REPLACEMENT, db_json, db_text
from core.models import Conversation, Message
from ledger.models import Task

pytestmark = pytest.mark.django_db

NUL = "\x00"


def test_the_sanitiser_replaces_only_what_postgresql_refuses():
    assert db_text("plain ✓ text") == "plain ✓ text"
    assert db_text(f"a{NUL}b") == f"a{REPLACEMENT}b"
    assert db_text("lone \udcff surrogate") == f"lone {REPLACEMENT} surrogate"
    assert db_json({f"k{NUL}": [f"v{NUL}", 1, None, {"x": "\ud800"}]}) == {
        f"k{REPLACEMENT}": [f"v{REPLACEMENT}", 1, None, {"x": REPLACEMENT}]
    }


def test_a_nul_in_a_text_field_is_stored_as_a_replacement_character_and_found_by_the_same_lookup():
    conversation = Conversation.objects.create(subject=f"Subject{NUL}with a NUL")
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.INBOUND,
        message_id=f"nul{NUL}id@example.com",
        subject="Hi",
        body_text="Body\x00text \udcfe end",
    )

    message.refresh_from_db()
    assert message.body_text == f"Body{REPLACEMENT}text {REPLACEMENT} end"
    assert Conversation.objects.get().subject == f"Subject{REPLACEMENT}with a NUL"
    # A lookup with the same dirty value finds the row: both go through the same sanitiser.
    assert Message.objects.get(message_id=f"nul{NUL}id@example.com").pk == message.pk

    Message.objects.filter(pk=message.pk).update(subject=f"Updated{NUL}")
    message.refresh_from_db()
    assert message.subject == f"Updated{REPLACEMENT}"


def test_a_nul_in_a_json_field_such_as_a_step_checkpoint_is_stored():
    # The intake's step checkpoint used to fail here ("unsupported Unicode escape sequence"), which
    # dead-lettered the whole intake of a mail with a NUL byte in it.
    task = Task.objects.create(
        workflow="test",
        idempotency_key="nul-json",
        requested_by_kind=Task.Requester.SYSTEM,
        input={"mail": {"new_text": f"Hello{NUL}", f"key{NUL}": ["a\x00b"]}},
    )
    task.output = {"steps": {"read": {"new_text": f"text{NUL}"}}}
    task.save(update_fields=["output"])

    task.refresh_from_db()
    assert task.input == {
        "mail": {"new_text": f"Hello{REPLACEMENT}", f"key{REPLACEMENT}": [f"a{REPLACEMENT}b"]}
    }
    assert task.output["steps"]["read"]["new_text"] == f"text{REPLACEMENT}"


def test_raw_sql_parameters_are_cleaned_too_and_bytes_are_left_alone():
    raw = b"Subject: x\r\n\r\nA NUL byte \x00 in raw mail stays.\r\n"
    inbound = InboundMail.objects.create(
        path="file", raw=raw, sha256="0" * 64, size=len(raw), source=f"s{NUL}"
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text, %s::jsonb ->> 'k'", [f"raw{NUL}sql", '{"k": "v"}'])
        assert cursor.fetchone() == (f"raw{REPLACEMENT}sql", "v")

    inbound.refresh_from_db()
    assert bytes(inbound.raw) == raw
    assert inbound.source == f"s{REPLACEMENT}"
