"""A real SMTP server on loopback (aiosmtpd) that keeps every message it accepts."""

from __future__ import annotations

import asyncio
import email
import logging
import socket

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts. It never deduplicates."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def smtp_restart(controller: Controller) -> None:
    """Start a stopped server again on the same port, as a mail server coming back after an outage
    (aiosmtpd closes its event loop when it stops, so it needs a new one)."""
    controller.loop = asyncio.new_event_loop()
    controller.start()


def smtp_running(controller: Controller) -> bool:
    return controller._thread is not None


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    # aiosmtpd logs every SMTP command at INFO: hundreds of lines that would bury a failure's output.
    smtp_log = logging.getLogger("mail.log")
    level = smtp_log.level
    smtp_log.setLevel(logging.WARNING)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        if smtp_running(controller):  # a test of an outage may leave it stopped
            controller.stop()
        smtp_log.setLevel(level)
