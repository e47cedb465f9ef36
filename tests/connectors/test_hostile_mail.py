"""Hostile and broken mail stays a test: the kept set in tests/connectors/data/hostile/ (injections in text,
HTML comments, attachments and quoted replies; Reply-To outside; a forged operator address; header
injection; broken encodings; deep nesting; a huge attachment; duplicate and colliding Message-IDs; calendar
invites; image-only mail; NUL bytes; …), with what each must become in expected.json.

Every mail goes through the real importer and the real conductor: one by one through the signed webhook
with the worker's code run in this process, and all at once through IMAP (dovecot) with a real django-q2
cluster. For each: its raw bytes are kept, nothing raises or dead-letters, nothing is sent (a real SMTP
server is listening) and no invoice or payment changes — what needs a person waits for the operator.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client

from connectors.imap import mailbox_poll
from connectors.models import InboundMail, Mailbox
from core import demo
from core import services as core_services
from core.models import Invoice, Message, Proposal
from ledger import services as ledger_services
from ledger.commit import INTERNAL, committer_effect
from ledger.models import Action, ApprovalRequest, OutboxEmail, Task
from tests.connectors import mails
from tests.connectors.imap_server import imap_server  # noqa: F401 - a fixture
from tests.factories import ClientFactory, ContactFactory, InvoiceFactory
from tests.ledger.cluster import QCluster, wait_for

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
EXPECTED: dict[str, dict] = json.loads((HOSTILE / "expected.json").read_text(encoding="utf-8"))
NAMES = sorted(EXPECTED)
# Mails that are about an earlier one of the set (a second copy, a colliding id, a forged reply) get it first.
EARLIER = {
    "14-duplicate-second.eml": ["13-duplicate-first.eml"],
    "15-colliding-message-id.eml": ["13-duplicate-first.eml"],
    "29-forged-in-reply-to.eml": ["13-duplicate-first.eml"],
}
ATTACHMENT_LIMIT = 100 * 1024  # 12-huge-attachment.eml carries 150 KB
SECRET = "whsec-hostile-0123456789abcdef0123456789"


def raw_of(name: str) -> bytes:
    return (HOSTILE / name).read_bytes()


def test_the_kept_set_has_at_least_25_hostile_mails_covering_every_kind():
    assert len(NAMES) >= 25
    assert all((HOSTILE / name).is_file() for name in NAMES)
    kinds = " ".join(NAMES)
    for kind in (
        "injection-in-text",
        "injection-in-html-comment",
        "injection-in-attachment",
        "injection-in-quoted-reply",
        "reply-to-outside",
        "spoofed-operator",
        "header-injection",
        "broken-base64",
        "unknown-charset",
        "deep-multipart",
        "huge-attachment",
        "duplicate",
        "colliding-message-id",
        "calendar",
        "image-only",
        "nul-bytes",
    ):
        assert kind in kinds, kind


def _studio(operator) -> dict:
    """The demo studio's catalogue, a client with a contact, and money records mail could try to move."""
    demo.demo_studio_configure(by=operator)
    kestrel = ClientFactory(name="Kestrel Logistics Ltd", email="accounts@kestrel-logistics.com")
    ContactFactory(client=kestrel, name="Helen Moore", email="helen.moore@kestrel-logistics.com")
    issued = core_services.invoice_issue(invoice=InvoiceFactory(client=kestrel), by=operator)
    sent = core_services.invoice_mark_sent(
        invoice=core_services.invoice_issue(invoice=InvoiceFactory(client=kestrel), by=operator), by=operator
    )
    return {"client": kestrel, "invoices": [issued, sent]}


def _money() -> list[tuple]:
    """Every invoice and proposal as it stands: status, totals, payment date."""
    return [
        *Invoice.objects.order_by("pk").values_list("pk", "status", "total", "paid_at", "voided_at"),
        *Proposal.objects.order_by("pk").values_list("pk", "status", "total", "sent_at"),
    ]


def _assert_nothing_happened_without_the_operator(inbox) -> None:
    assert inbox.messages == [], [message["Subject"] for message in inbox.messages]
    assert not OutboxEmail.objects.exists()
    outward = [
        action
        for action in Action.objects.select_related("task")
        if committer_effect(action.kind) != INTERNAL
    ]
    for action in outward:
        # Whatever an agent proposed from this mail waits for the operator; nothing was committed.
        assert action.status == Action.Status.PROPOSED, (action.task.input, action.kind, action.status)
        assert ApprovalRequest.objects.get(action=action).status == ApprovalRequest.Status.PENDING
    assert not Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()


# --- One by one through the webhook -----------------------------------------------------------------------


@pytest.fixture
def webhook(settings):
    settings.AIOS_INBOUND_WEBHOOK_SECRET = SECRET
    web = Client(enforce_csrf_checks=True)

    def post(raw: bytes) -> dict:
        response = web.post(
            "/api/v1/inbound/email", data=raw, content_type="message/rfc822", **mails.sign(raw, SECRET)
        )
        assert response.status_code == 202, response.content
        return response.json()

    return post


def _smtp_to(settings, controller) -> None:
    """Any email the ledger might send goes to the real local server, where the test would see it."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = (
        controller.hostname,
        controller.port,
        False,
    )


def _run_intake_tasks() -> list[Task]:
    """What a worker does with the intake tasks: each runnable one, until none is left."""
    for _ in range(5):
        runnable = list(Task.objects.filter(workflow="intake.process", status__in=["queued", "retrying"]))
        if not runnable:
            break
        for task in runnable:
            ledger_services.task_execute(task_id=task.pk)
    return list(Task.objects.filter(workflow="intake.process"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", NAMES)
def test_a_hostile_mail_through_the_webhook_is_kept_and_changes_nothing_without_the_operator(
    name, operator, webhook, settings, smtp_server, django_capture_on_commit_callbacks
):
    controller, inbox = smtp_server
    _smtp_to(settings, controller)
    settings.AIOS_ATTACHMENT_MAX_BYTES = ATTACHMENT_LIMIT
    _studio(operator)
    expected = EXPECTED[name]
    raw = raw_of(name)
    with django_capture_on_commit_callbacks(execute=True):
        for earlier in EARLIER.get(name, []):
            webhook(raw_of(earlier))
        _run_intake_tasks()
    before = _money()

    with django_capture_on_commit_callbacks(execute=True):
        answer = webhook(raw)
    tasks = _run_intake_tasks()

    inbound = InboundMail.objects.get(pk=answer["inbound_id"])
    assert (answer["status"], inbound.status) == (expected["status"], expected["status"]), inbound.reason
    # Kept with its raw bytes: on this row, or (an identical second copy) on the row that has them.
    digest = hashlib.sha256(raw).hexdigest()
    assert inbound.sha256 == digest
    assert (
        bytes(inbound.raw) == raw or bytes(InboundMail.objects.exclude(raw=b"").get(sha256=digest).raw) == raw
    )
    if expected["status"] == "review":
        assert expected["reason"].lower() in inbound.reason.lower(), inbound.reason
    # No importer or worker crashed: every intake task ended or waits for the operator.
    statuses = {task.status for task in tasks}
    assert statuses <= {"succeeded", "waiting_approval"}, [(task.status, task.last_error) for task in tasks]
    if expected["status"] == "imported":
        (task,) = [task for task in tasks if task.input["message_id"] == inbound.message_id]
        route = task.output["steps"]["route"]["route"]
        if "route" in expected:
            assert route == expected["route"], task.output["steps"]["route"]
        if route == "review":
            assert task.status == "waiting_approval"
            assert task.actions.get().kind == "intake.review"
    _assert_nothing_happened_without_the_operator(inbox)
    assert _money() == before


def _served(server) -> list[bytes]:
    """Every mail in the server's INBOX, as IMAP hands it over."""
    with server.client() as conn:
        conn.select("INBOX", readonly=True)
        kind, data = conn.uid("SEARCH", None, "ALL")
        assert kind == "OK", data
        served = []
        for uid in data[0].split():
            kind, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            assert kind == "OK", parts
            served.append(next(part[1] for part in parts if isinstance(part, tuple)))
    return served


# --- All at once through IMAP and a real cluster -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_whole_set_through_imap_and_a_real_cluster_crashes_nothing_and_sends_nothing(
    tmp_path,
    operator,
    imap_server,  # noqa: F811
    smtp_server,
    settings,
):
    controller, inbox = smtp_server
    settings.AIOS_ATTACHMENT_MAX_BYTES = ATTACHMENT_LIMIT
    studio = _studio(operator)
    before = _money()
    for name in NAMES:
        imap_server.append(raw_of(name))
    mailbox = Mailbox.objects.create(
        name="hostile",
        host=imap_server.host,
        port=imap_server.port,
        use_ssl=False,
        username=imap_server.user,
        password=imap_server.password,
    )
    cluster = QCluster(
        "hostile",
        tmp_path,
        workers=2,
        AIOS_SMTP_HOST=controller.hostname,
        AIOS_SMTP_PORT=str(controller.port),
        AIOS_SMTP_STARTTLS="false",
        AIOS_SMTP_TIMEOUT="5",
    )
    try:
        cluster.start()
        poll = mailbox_poll(mailbox=mailbox)
        assert poll.fetched == len(NAMES), str(poll)

        def settled() -> bool:
            ledger_services.ledger_sweep()
            return not Task.objects.exclude(status__in=["succeeded", "waiting_approval", "dead"]).exists()

        wait_for(settled, seconds=300, what=f"every task to settle:\n{cluster.log_tail()}")
    finally:
        cluster.kill()

    # Every mail was received and kept with the bytes the IMAP server handed over (an identical second copy
    # points at the first). Those are the files' bytes, except where IMAP itself cannot carry them: a NUL
    # byte is not allowed in an IMAP message, and dovecot rewrites it when the mail is appended.
    served = _served(imap_server)
    rows = list(InboundMail.objects.all())
    assert len(rows) == len(NAMES) == len(served)
    kept = {row.sha256: bytes(row.raw) for row in rows if bytes(row.raw)}
    for raw in served:
        assert kept[hashlib.sha256(raw).hexdigest()] == raw
    rewritten = [name for name in NAMES if raw_of(name) not in served]
    assert rewritten == ["20-nul-bytes.eml"]
    by_status: dict[str, int] = {}
    for row in rows:
        by_status[row.status] = by_status.get(row.status, 0) + 1
    wanted: dict[str, int] = {}
    for entry in EXPECTED.values():
        wanted[entry["status"]] = wanted.get(entry["status"], 0) + 1
    assert by_status == wanted
    # No worker crashed on any of them: nothing dead-lettered, nothing left running.
    dead = Task.objects.filter(status="dead")
    assert not dead.exists(), [(task.workflow, task.last_error) for task in dead]
    assert "Traceback" not in cluster.log()
    _assert_nothing_happened_without_the_operator(inbox)
    assert _money() == before
    assert [invoice.status for invoice in Invoice.objects.filter(client=studio["client"]).order_by("pk")] == [
        "approved",
        "sent",
    ]
    assert Invoice.objects.filter(paid_at__isnull=False).count() == 0
    assert sum((invoice.total for invoice in studio["invoices"]), Decimal("0")) > 0
