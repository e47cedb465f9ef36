"""Email in: raw bytes → canonical Conversation/Message, or the review queue with the reason.

Threading by In-Reply-To/References, Message-ID dedupe (also two paths at once, in real threads with
their own connections), attachments as artifacts deduplicated by sha256, and every kind of malformed
mail of the issue (broken MIME, unknown charset, 20 MB attachment, empty body, no Message-ID) in review
with its raw bytes — none raising.
"""

import datetime as dt
import hashlib
import threading
import time

import pytest
from django.db import connection, transaction

from agents import kernel, summariser
from connectors import services
from connectors.models import InboundMail
from core.models import Artifact, Conversation, Message
from ledger.models import Task
from tests.connectors import mails
from tests.factories import ClientFactory, ContactFactory

pytestmark = pytest.mark.django_db
IMPORTED, DUPLICATE, REVIEW = (
    InboundMail.Status.IMPORTED,
    InboundMail.Status.DUPLICATE,
    InboundMail.Status.REVIEW,
)


def ingest(raw: bytes, path: str = "file", source: str = "test") -> InboundMail:
    return services.mail_ingest(raw=raw, path=path, source=source)


# --- A mail becomes a message -------------------------------------------------------------------------------


def test_a_new_mail_becomes_an_inbound_message_in_a_new_conversation_of_the_senders_client():
    client = ClientFactory(name="Lima Design")
    ContactFactory(client=client, email="ana@client.example")
    raw = mails.mail(cc="Bo <bo@client.example>, undisclosed-recipients:;")

    inbound = ingest(raw, path="webhook", source="hook-1")

    assert (inbound.status, inbound.reason, inbound.path, inbound.source) == (
        IMPORTED,
        "",
        "webhook",
        "hook-1",
    )
    assert bytes(inbound.raw) == raw
    assert (inbound.size, inbound.sha256) == (len(raw), hashlib.sha256(raw).hexdigest())
    assert inbound.message_id_header == "inquiry-1@client.example"
    message = inbound.message
    assert message.direction == Message.Direction.INBOUND
    assert (message.message_id, message.from_email, message.from_name) == (
        "inquiry-1@client.example",
        "ana@client.example",
        "Ana Lima",
    )
    assert (message.to, message.cc) == ([mails.STUDIO], ["bo@client.example"])
    assert message.subject == "A new website"
    assert message.body_text == "Hello, we need a new website by the end of June. Budget 8k EUR."
    assert message.sent_at == dt.datetime(2026, 11, 2, 8, 14, tzinfo=dt.UTC)
    conversation = message.conversation
    assert (conversation.subject, conversation.channel, conversation.client) == (
        "A new website",
        "email",
        client,
    )
    assert conversation.last_message_at == message.sent_at
    # Written by the system, and the history says which receipt made it.
    assert message.history.get().history_change_reason == f"email in: inbound mail {inbound.pk}"


def test_a_sender_known_only_as_a_clients_own_address_finds_that_client():
    client = ClientFactory(email="ana@client.example")

    inbound = ingest(mails.mail())

    assert inbound.message.conversation.client == client


def test_an_unknown_sender_starts_a_conversation_without_a_client():
    inbound = ingest(mails.mail(sender="someone@elsewhere.example"))

    assert inbound.status == IMPORTED
    assert inbound.message.conversation.client is None


def test_a_mail_without_a_date_is_dated_when_it_arrived(frozen_clock):
    raw = mails.raw({k: v for k, v in mails.HEADERS.items() if k != "Date"}, "Hello without a date.\r\n")

    inbound = ingest(raw)

    assert inbound.status == IMPORTED
    assert inbound.message.sent_at == frozen_clock


# --- Threads ------------------------------------------------------------------------------------------------


def test_a_reply_by_in_reply_to_joins_the_thread_of_the_message_it_answers():
    first = ingest(mails.mail()).message

    reply = ingest(
        mails.mail(
            message_id="<reply-1@client.example>",
            subject="Re: A new website",
            in_reply_to="<inquiry-1@client.example>",
            references="<inquiry-1@client.example>",
        )
    ).message

    assert reply.conversation == first.conversation
    assert (reply.in_reply_to, reply.references) == ("inquiry-1@client.example", "inquiry-1@client.example")
    assert Conversation.objects.count() == 1
    assert list(first.conversation.messages.order_by("pk")) == [first, reply]


def test_a_reply_whose_in_reply_to_is_unknown_is_threaded_by_its_references():
    first = ingest(mails.mail()).message

    reply = ingest(
        mails.mail(
            message_id="<reply-2@client.example>",
            in_reply_to="<never-stored@elsewhere.example>",
            references=(
                "<older@elsewhere.example> <inquiry-1@client.example> <never-stored@elsewhere.example>"
            ),
        )
    ).message

    assert reply.conversation == first.conversation
    assert (
        reply.references == "older@elsewhere.example inquiry-1@client.example never-stored@elsewhere.example"
    )


def test_references_to_nothing_stored_start_a_new_conversation():
    first = ingest(mails.mail()).message

    other = ingest(
        mails.mail(
            message_id="<other@client.example>",
            in_reply_to="<unknown@x.example>",
            references="<unknown@x.example>",
        )
    ).message

    assert other.conversation != first.conversation
    assert Conversation.objects.count() == 2


# --- Duplicates ---------------------------------------------------------------------------------------------


def test_a_message_id_seen_before_is_a_duplicate_and_stores_nothing_new():
    first = ingest(mails.mail(), path="imap", source="1:7:1")

    again = ingest(mails.mail(), path="file", source="inbox.mbox#0")

    assert (again.status, again.message) == (DUPLICATE, first.message)
    assert Message.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert first.message.body_text.startswith("Hello, we need")
    # Identical bytes are kept once.
    assert bytes(again.raw) == b"" and again.sha256 == first.sha256
    assert InboundMail.objects.count() == 2


def test_the_same_mail_by_another_path_with_other_trace_headers_is_still_a_duplicate():
    first = ingest(mails.mail(), path="imap", source="1:7:1")
    # The webhook's copy went through another relay: an extra Received header, LF line endings.
    relayed = (
        b"Received: from relay.example by mx.example; Mon, 02 Nov 2026 09:14:05 +0100\n"
        + mails.mail().replace(b"\r\n", b"\n")
    )

    again = ingest(relayed, path="webhook")

    assert again.sha256 != first.sha256
    assert (again.status, again.message) == (DUPLICATE, first.message)
    assert Message.objects.count() == 1


def test_a_different_mail_reusing_a_known_message_id_goes_to_review_with_its_bytes():
    first = ingest(mails.mail(), path="imap", source="1:7:1")
    other_bytes = mails.mail(body="The same Message-ID, other words: please pay the new account below.")

    different = ingest(other_bytes, path="webhook")

    assert different.status == REVIEW
    assert different.message is None
    assert "<inquiry-1@client.example>" in different.reason and "different content" in different.reason
    assert different.message_id_header == "inquiry-1@client.example"
    assert bytes(different.raw) == other_bytes
    # Nothing of it reached the record: the first mail is untouched and no task was started for it.
    assert Message.objects.count() == 1
    assert Message.objects.get().body_text.startswith("Hello, we need")
    assert first.message.inbound_mails.count() == 1
    assert not Task.objects.filter(idempotency_key__contains="other words").exists()


def _wait_for_a_lock_waiter(timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the second delivery never waited for the first")


@pytest.mark.django_db(transaction=True)
def test_the_same_mail_through_two_paths_at_once_is_stored_once():
    """The IMAP poll holds its transaction open after storing the message; the webhook delivery of the
    same mail, which saw no message yet, waits on the unique Message-ID and then counts as a duplicate."""
    raw = mails.mail(attachments=(("brief.pdf", "application/pdf", b"%PDF-1.4 brief"),))
    stored, release = threading.Event(), threading.Event()
    results, errors = {}, []

    def imap_delivery():
        try:
            with transaction.atomic():
                results["imap"] = services.mail_ingest(raw=raw, path="imap", source="1:7:1")
                stored.set()
                release.wait(30)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def webhook_delivery():
        try:
            stored.wait(30)
            results["webhook"] = services.mail_ingest(raw=raw, path="webhook", source="hook")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=imap_delivery), threading.Thread(target=webhook_delivery)]
    for thread in threads:
        thread.start()
    stored.wait(30)
    _wait_for_a_lock_waiter()
    release.set()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert (results["imap"].status, results["webhook"].status) == (IMPORTED, DUPLICATE)
    assert results["webhook"].message_id == results["imap"].message_id
    assert Message.objects.count() == 1
    # The losing delivery's conversation was undone with it.
    assert Conversation.objects.count() == 1
    assert Artifact.objects.count() == 1
    assert sorted(InboundMail.objects.values_list("path", "status")) == [
        ("imap", IMPORTED),
        ("webhook", DUPLICATE),
    ]


@pytest.mark.django_db(transaction=True)
def test_four_deliveries_released_together_store_one_message():
    raw = mails.mail()
    barrier = threading.Barrier(4)
    statuses, errors = [], []

    def deliver(path):
        try:
            barrier.wait(30)
            statuses.append(services.mail_ingest(raw=raw, path=path).status)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(path,)) for path in ("imap", "webhook", "file", "imap")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert sorted(statuses) == [DUPLICATE, DUPLICATE, DUPLICATE, IMPORTED]
    assert (Message.objects.count(), Conversation.objects.count()) == (1, 1)


# --- Attachments --------------------------------------------------------------------------------------------


def test_attachments_are_stored_as_artifacts_once_per_content():
    brief = b"%PDF-1.4 the brief" * 100
    client = ClientFactory()
    ContactFactory(client=client, email="ana@client.example")

    first = ingest(
        mails.mail(
            attachments=(
                ("brief.pdf", "application/pdf", brief),
                ("notes.txt", "text/plain", b"Pages: home, shop, blog"),
            )
        )
    ).message
    second = ingest(
        mails.mail(
            message_id="<again@client.example>", attachments=(("brief-copy.pdf", "application/pdf", brief),)
        )
    ).message

    assert Artifact.objects.count() == 2
    pdf = Artifact.objects.get(sha256=hashlib.sha256(brief).hexdigest())
    assert (pdf.filename, pdf.mime_type, pdf.size, pdf.client) == (
        "brief.pdf",
        "application/pdf",
        len(brief),
        client,
    )
    assert pdf.file.read() == brief
    assert sorted(first.attachments.values_list("filename", flat=True)) == ["brief.pdf", "notes.txt"]
    assert list(second.attachments.all()) == [pdf]
    assert first.attachments.get(filename="notes.txt").extracted_text == "Pages: home, shop, blog"


def test_a_mail_with_only_an_attachment_is_imported():
    inbound = ingest(mails.mail(body="", attachments=(("plan.pdf", "application/pdf", b"%PDF plan"),)))

    assert inbound.status == IMPORTED
    assert inbound.message.attachments.count() == 1


# --- Review queue -------------------------------------------------------------------------------------------


def _assert_in_review(inbound: InboundMail, raw: bytes, reason_part: str) -> None:
    inbound.refresh_from_db()
    assert inbound.status == REVIEW
    assert reason_part in inbound.reason, inbound.reason
    assert bytes(inbound.raw) == raw
    assert inbound.message is None


def test_broken_mime_waits_for_review_with_its_raw_bytes():
    raw = mails.broken_mime()

    inbound = ingest(raw)

    _assert_in_review(inbound, raw, "broken MIME structure: multipart/mixed without a boundary")
    assert inbound.message_id_header == "broken-1@client.example"
    assert Message.objects.count() == 0 and Conversation.objects.count() == 0


def test_an_unknown_charset_waits_for_review():
    raw = mails.unknown_charset()

    inbound = ingest(raw)

    _assert_in_review(inbound, raw, "Unknown charset 'x-klingon' in the text/plain part")
    assert any("x-klingon" in problem for problem in inbound.problems)
    assert Message.objects.count() == 0


def test_a_20_mb_attachment_waits_for_review():
    """Base64 makes a 20 MB attachment a 27 MB mail: over the whole-mail limit (25 MB) already."""
    raw = mails.mail(attachments=(("video.mov", "video/quicktime", b"\x00\x01" * (10 * 1024 * 1024)),))

    inbound = ingest(raw)

    _assert_in_review(inbound, raw, "over the 25.0 MB limit (AIOS_MAIL_MAX_BYTES)")
    assert inbound.size == len(raw) > 25 * 1024 * 1024
    assert Message.objects.count() == 0 and Artifact.objects.count() == 0


def test_an_attachment_over_its_limit_waits_for_review_even_when_the_mail_is_allowed(settings):
    settings.AIOS_MAIL_MAX_BYTES = 40 * 1024 * 1024
    raw = mails.mail(attachments=(("video.mov", "video/quicktime", b"\x00\x01" * (10 * 1024 * 1024)),))

    inbound = ingest(raw)

    _assert_in_review(
        inbound, raw, "Attachment over the 10.0 MB limit (AIOS_ATTACHMENT_MAX_BYTES): video.mov (20.0 MB)"
    )
    assert Message.objects.count() == 0 and Artifact.objects.count() == 0


def test_an_empty_body_waits_for_review():
    raw = mails.empty_body()

    _assert_in_review(ingest(raw), raw, "The mail has an empty body: no text and no attachments.")


def test_a_mail_without_message_id_waits_for_review():
    raw = mails.no_message_id()

    inbound = ingest(raw)

    _assert_in_review(inbound, raw, "The mail has no Message-ID header")
    assert inbound.message_id_header == ""


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"", "empty message"),
        (b"\x00\xff\xfe garbage without headers", "The mail cannot be read"),
        (mails.raw({"To": mails.STUDIO, "Message-ID": "<x@y>"}, "no sender"), "no From address"),
    ],
)
def test_what_is_not_a_mail_at_all_waits_for_review(raw, reason):
    _assert_in_review(ingest(raw), raw, reason)


def test_the_same_bad_bytes_twice_are_one_row_in_review():
    raw = mails.broken_mime()

    first = ingest(raw, path="imap", source="1:7:3")
    second = ingest(raw, path="file", source="broken.eml")

    assert second.pk == first.pk
    assert InboundMail.objects.filter(status=REVIEW).count() == 1
    assert InboundMail.objects.count() == 1


def test_a_failure_while_storing_waits_for_review_with_the_exception_and_leaves_nothing_half_done(
    settings, tmp_path
):
    # The file storage cannot write: MEDIA_ROOT lies under a regular file.
    (tmp_path / "not-a-folder").write_text("x")
    settings.MEDIA_ROOT = str(tmp_path / "not-a-folder" / "media")
    raw = mails.mail(attachments=(("brief.pdf", "application/pdf", b"%PDF brief"),))

    inbound = ingest(raw)

    _assert_in_review(inbound, raw, "The import failed: NotADirectoryError")
    assert (Message.objects.count(), Conversation.objects.count(), Artifact.objects.count()) == (0, 0, 0)


def test_retry_imports_a_mail_in_review_into_the_same_row_once_the_limit_allows_it(settings):
    settings.AIOS_ATTACHMENT_MAX_BYTES = 1024
    raw = mails.mail(attachments=(("brief.pdf", "application/pdf", b"%" * 4096),))
    inbound = ingest(raw)
    assert inbound.status == REVIEW

    settings.AIOS_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    retried = services.inbound_retry(inbound=inbound)

    assert retried.pk == inbound.pk
    assert (retried.status, retried.reason) == (IMPORTED, "")
    assert retried.message.attachments.get().size == 4096
    assert InboundMail.objects.count() == 1


def test_only_mail_in_review_can_be_retried():
    inbound = ingest(mails.mail())

    with pytest.raises(Exception, match="Only mail in review can be imported again"):
        services.inbound_retry(inbound=inbound)
    assert Message.objects.count() == 1


# --- Intake hook --------------------------------------------------------------------------------------------


@pytest.fixture
def intake_workflow(monkeypatch):
    """The intake workflow, registered for the test unless agents/ declares it already."""
    try:
        return kernel.workflow_get("intake.process")
    except kernel.RegistryError:
        workflow = kernel.Workflow(
            name="intake.process", steps=(kernel.Step(name="read", agent=summariser.ThreadSummariser.name),)
        )
        monkeypatch.setitem(kernel._WORKFLOWS, "intake.process", workflow)
        return workflow


def test_an_imported_message_is_handed_to_the_intake_workflow_after_commit(
    intake_workflow, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        inbound = ingest(mails.mail())
    with django_capture_on_commit_callbacks(execute=True):
        ingest(mails.mail(), path="imap")  # a duplicate: no second task

    task = Task.objects.get(workflow="intake.process")
    assert task.idempotency_key == "intake:inquiry-1@client.example"
    assert task.input["message_id"] == inbound.message.pk
    parts = {
        "new_text",
        "quoted_text",
        "is_auto_reply",
        "is_bounce",
        "is_calendar",
        "is_image_only",
        "headers",
        "date",
    }
    assert set(task.input["mail"]) == parts
    assert (task.requested_by_kind, task.requested_by_ref) == ("connector", "email")


def test_without_an_intake_workflow_imported_mail_just_waits(monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.delitem(kernel._WORKFLOWS, "intake.process", raising=False)

    with django_capture_on_commit_callbacks(execute=True):
        inbound = ingest(mails.mail())

    assert inbound.status == IMPORTED
    assert Task.objects.filter(workflow="intake.process").count() == 0


def test_mail_in_review_is_not_handed_to_intake(intake_workflow, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ingest(mails.no_message_id())

    assert Task.objects.filter(workflow="intake.process").count() == 0
    assert callbacks == []
