"""The outbox's one uncertain window, hit on purpose (ADR 0005).

A real delivering process (`outbox_deliver` in a child Django process on the test database) talks to a
real SMTP server started here, whose handler SIGKILLs that process at a chosen point of the SMTP
conversation. Killed before the message's final "." the server holds nothing and the next attempt sends
the email once; killed after the server took the message (the window no SMTP client can close), the next
attempt sends it again with the same Message-ID — and says so: the row counts the resend and the
operator gets a notice naming the email.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings

from ledger.models import Action, Notice, OutboxEmail, Task
from ledger.outbox import Delivery, outbox_deliver
from tests.ledger.cluster import subprocess_env
from tests.smtp import Inbox, free_port

pytestmark = pytest.mark.django_db(transaction=True)


class KillingInbox(Inbox):
    """Keeps every message, and kills the process `victim` once, at `when`: "rcpt" (before DATA: the
    message cannot exist yet) or "data" (the server has the whole message; the client will never hear
    the 250)."""

    def __init__(self, when: str) -> None:
        super().__init__()
        self.when = when
        self.victim: int | None = None

    def _kill(self, when: str) -> None:
        if self.victim and self.when == when:
            os.kill(self.victim, signal.SIGKILL)
            self.victim = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        self._kill("rcpt")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        reply = await super().handle_DATA(server, session, envelope)
        self._kill("data")
        return reply


@pytest.fixture
def outbox_row(db):
    task = Task.objects.create(
        workflow="email.send", input={}, idempotency_key="window", requested_by_kind="system"
    )
    action = Action.objects.create(
        task=task,
        step="send",
        kind="email.send",
        payload={"to": ["ana@client.example"]},
        summary="Invoice NW-2026-0042",
        idempotency_key="window:send",
        status=Action.Status.COMMITTED,
    )
    return OutboxEmail.objects.create(
        action=action,
        message_id="<window-42@studio.example>",
        from_email="studio@studio.example",
        to=["ana@client.example"],
        subject="Invoice NW-2026-0042",
        body_text="Hello Ana,\n\nthe invoice is attached.",
    )


def _smtp(handler: Inbox):
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller


def _deliver_in_a_child_killed_by(handler: KillingInbox, controller, tmp_path, email: OutboxEmail) -> int:
    env = subprocess_env(
        tmp_path,
        AIOS_SMTP_HOST=controller.hostname,
        AIOS_SMTP_PORT=str(controller.port),
        AIOS_SMTP_STARTTLS="false",
        AIOS_SMTP_TIMEOUT="5",
    )
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and code
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from ledger.outbox import outbox_deliver; "
            f"outbox_deliver(email_id={email.pk})",
        ],
        env=env,
        cwd=django_settings.BASE_DIR,
    )
    handler.victim = child.pid
    return child.wait(timeout=60)


def _deliver_here(settings, controller) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = False
    settings.AIOS_SMTP_TIMEOUT_SECONDS = 5


def test_a_sender_killed_before_the_final_dot_leaves_nothing_at_the_server_and_the_email_goes_once(
    settings, tmp_path, outbox_row
):
    handler = KillingInbox(when="rcpt")
    controller = _smtp(handler)
    try:
        assert _deliver_in_a_child_killed_by(handler, controller, tmp_path, outbox_row) == -signal.SIGKILL
        outbox_row.refresh_from_db()
        assert (outbox_row.status, outbox_row.attempts, outbox_row.data_sent_at) == ("pending", 1, None)
        assert handler.messages == []

        _deliver_here(settings, controller)
        assert outbox_deliver(email_id=outbox_row.pk) is Delivery.SENT
    finally:
        controller.stop()
    outbox_row.refresh_from_db()
    assert (outbox_row.status, outbox_row.attempts, outbox_row.uncertain_resends) == ("sent", 2, 0)
    assert [message["Message-ID"] for message in handler.messages] == ["<window-42@studio.example>"]
    assert not Notice.objects.filter(key__startswith="outbox:uncertain").exists()


def test_a_sender_killed_after_the_server_took_the_message_resends_it_once_and_says_so(
    settings, tmp_path, outbox_row
):
    handler = KillingInbox(when="data")
    controller = _smtp(handler)
    try:
        assert _deliver_in_a_child_killed_by(handler, controller, tmp_path, outbox_row) == -signal.SIGKILL
        outbox_row.refresh_from_db()
        # The server has it; our record could not say so: pending, with the stamp of the final ".".
        assert len(handler.messages) == 1
        assert outbox_row.status == "pending" and outbox_row.data_sent_at is not None

        _deliver_here(settings, controller)
        assert outbox_deliver(email_id=outbox_row.pk) is Delivery.RESENT
        # Sent and recorded: a further delivery sends nothing.
        assert outbox_deliver(email_id=outbox_row.pk) is Delivery.NOTHING
    finally:
        controller.stop()
    outbox_row.refresh_from_db()
    assert (outbox_row.status, outbox_row.attempts, outbox_row.uncertain_resends) == ("sent", 2, 1)
    assert outbox_row.data_sent_at is None
    assert [message["Message-ID"] for message in handler.messages] == ["<window-42@studio.example>"] * 2
    notice = Notice.objects.get(key=f"outbox:uncertain:{outbox_row.pk}")
    assert notice.title == "“Invoice NW-2026-0042” may reach ana@client.example twice"
    assert notice.task_id == outbox_row.action.task_id and notice.is_open


def test_a_refusal_after_the_final_dot_is_certain_and_clears_the_stamp(settings, outbox_row):
    class Refusing(Inbox):
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            return "451 Try again later"

    controller = _smtp(Refusing())
    try:
        _deliver_here(settings, controller)
        with pytest.raises(Exception, match="451"):
            outbox_deliver(email_id=outbox_row.pk)
    finally:
        controller.stop()
    outbox_row.refresh_from_db()
    assert outbox_row.status == "pending" and outbox_row.data_sent_at is None
    assert "451" in outbox_row.last_error
