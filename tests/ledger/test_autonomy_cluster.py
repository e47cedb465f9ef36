"""Autonomy opening up for mail-started work, end to end with real parts only (ADR 0015): real mails through
the importer, the intake workflow on a real django-q2 cluster, the operator's approvals, an autonomy
suggestion accepted, and a real SMTP server (aiosmtpd) receiving the replies.

Three scheduling requests from a client are each answered after the operator's approval; the fourth is
answered without the operator. A request from a sender never written to, and an inquiry that becomes a
proposal (another kind), still wait.
"""

from __future__ import annotations

import email.utils
import importlib
from pathlib import Path

import pytest
from django.apps import apps

from connectors.services import mail_ingest
from core import demo
from ledger import approvals, policy
from ledger.models import ApprovalRequest, AutonomySuggestion, Policy, Task
from tests.ledger.cluster import QCluster, wait_for

SAMPLES = Path(__file__).resolve().parents[1] / "agents" / "data" / "intake"
CAUTION = "Ask before untrusted input leads outside or to money"
TOMAS = "tomas@ruizarquitectos.es"


def meeting(n: int, sender: str = f"Tomás Ruiz <{TOMAS}>") -> bytes:
    """The sample scheduling request, as a new mail (its own Message-ID and subject) from `sender`."""
    raw = (SAMPLES / "04-meeting.eml").read_bytes().decode()
    raw = raw.replace("Message-ID: <b77@ruizarquitectos.es>", f"Message-ID: <meet-{n}@autonomy.test>")
    raw = raw.replace("Subject: Call next week?", f"Subject: Call next week? ({n})")
    return raw.replace(f"From: Tomás Ruiz <{TOMAS}>", f"From: {sender}").encode()


def inquiry(n: int) -> bytes:
    raw = (SAMPLES / "01-new-website.eml").read_bytes().decode()
    headers, _, body = raw.partition("\n\n")
    kept = [line for line in headers.splitlines() if not line.lower().startswith(("from:", "message-id:"))]
    kept += [f"From: Tomás Ruiz <{TOMAS}>", f"Message-ID: <inquiry-{n}@autonomy.test>"]
    return ("\n".join(kept) + "\n\n" + body).encode()


def intake_task(raw: bytes) -> Task:
    inbound = mail_ingest(raw=raw, path="file", source="test")
    assert inbound.status == "imported", inbound.reason
    return Task.objects.get(workflow="intake.process", input__message_id=inbound.message.pk)


def default_policies() -> None:
    """A transactional test starts from a flushed database: the policies a new workspace starts with (the
    data migration's rows) are written again, exactly as the migration writes them."""
    importlib.import_module("ledger.migrations.0005_default_policies").create(apps, None)


def settled(task: Task, status: str):
    return lambda: Task.objects.get(pk=task.pk).status == status


@pytest.mark.django_db(transaction=True)
def test_after_three_approvals_and_an_accepted_suggestion_the_fourth_reply_goes_out_alone(
    tmp_path, operator, smtp_server
):
    controller, inbox = smtp_server
    default_policies()
    demo.demo_studio_configure(by=operator)
    watcher = Policy.objects.get(kind="autonomy")
    policy.policy_save(policy=watcher, by=operator, name=watcher.name, kind="autonomy", params={"after": 3})
    cluster = QCluster(
        "autonomy",
        tmp_path,
        workers=2,
        AIOS_SMTP_HOST=controller.hostname,
        AIOS_SMTP_PORT=str(controller.port),
        AIOS_SMTP_STARTTLS="false",
        AIOS_SMTP_TIMEOUT="5",
    )
    try:
        cluster.start()
        asked = [intake_task(meeting(n)) for n in range(3)]
        for task in asked:
            wait_for(settled(task, "waiting_approval"), seconds=180, what=f"intake:\n{cluster.log_tail()}")
            (action,) = task.actions.all()
            assert (action.kind, action.agent, action.decision) == ("email.send", "proposal_writer", "ask")
            assert CAUTION in action.decision_reason
        # The operator approves each reply as drafted; each goes out once.
        for n, task in enumerate(asked, start=1):
            approvals.approval_approve(approval=ApprovalRequest.objects.get(task=task), by=operator)
            wait_for(settled(task, "succeeded"), seconds=120, what=f"reply {n}:\n{cluster.log_tail()}")
            wait_for(lambda n=n: len(inbox.messages) >= n, seconds=30, what=f"reply {n} at the SMTP server")

        suggestion = AutonomySuggestion.objects.get(status="open")
        assert suggestion.params == {
            **suggestion.params,
            "action_kinds": ["email.send"],
            "agents": ["proposal_writer"],
            "untrusted_source": True,
            "new_recipient": False,
            "without_amount": True,
            "prevails_over": [Policy.objects.get(name=CAUTION).pk],
        }
        created = approvals.autonomy_accept(suggestion=suggestion, by=operator)

        alone = intake_task(meeting(3))
        wait_for(settled(alone, "succeeded"), seconds=180, what=f"the fourth reply:\n{cluster.log_tail()}")
        wait_for(lambda: len(inbox.messages) >= 4, seconds=30, what="the fourth reply at the SMTP server")
        (action,) = alone.actions.all()
        assert (action.status, action.decision, action.decided_by) == ("committed", "commit", None)
        assert action.decision_policies[0]["id"] == created.pk
        assert not ApprovalRequest.objects.filter(task=alone).exists()

        stranger = intake_task(meeting(4, sender="Ana Gil <ana@unknown-studio.example>"))
        other_kind = intake_task(inquiry(5))
        for task in (stranger, other_kind):
            wait_for(settled(task, "waiting_approval"), seconds=180, what=f"intake:\n{cluster.log_tail()}")
        (new_recipient,) = stranger.actions.all()
        assert new_recipient.approval.floors == ["new_recipient"]
        (proposal,) = other_kind.actions.all()
        assert (proposal.kind, proposal.decision) == ("proposal.send", "ask")
        assert CAUTION in proposal.decision_reason
    finally:
        cluster.kill()

    assert len(inbox.messages) == 4, "the stranger's reply and the proposal were not sent"
    fourth = inbox.messages[3]
    assert email.utils.parseaddr(fourth["To"])[1] == TOMAS
    assert fourth["In-Reply-To"] == "<meet-3@autonomy.test>"
