"""The client-intake value stream end to end, with real parts only: a real IMAP server (dovecot) holding
the sample mails, the real poller, a real django-q2 cluster running the intake workflow, the approval
service, and a real SMTP server (aiosmtpd) receiving the reply.

Polling imports every mail once (a second poll imports nothing), the inquiries end as proposals waiting
for approval with their inferred fields, the injection mail ends filed with nothing committed, and
approving one proposal sends exactly one threaded reply from the operator's address and marks the
proposal sent.
"""

from __future__ import annotations

import email.utils
import json
from pathlib import Path

import pytest

from connectors.imap import mailbox_poll
from connectors.models import InboundMail, Mailbox
from core import demo
from core.models import Message, Proposal
from ledger import approvals
from ledger.models import Action, ApprovalRequest, Task
from tests.connectors.imap_server import imap_server  # noqa: F401 - a fixture
from tests.ledger.cluster import QCluster, wait_for

SAMPLES = Path(__file__).resolve().parents[1] / "agents" / "data" / "intake"
INQUIRIES = {"01-new-website.eml", "02-logo-usd.eml", "07-shop-sek.eml", "10-rebrand-html.eml"}


def _message_ids() -> dict[str, str]:
    ids = {}
    for path in sorted(SAMPLES.glob("*.eml")):
        header = email.message_from_bytes(path.read_bytes())["Message-ID"]
        ids[path.name] = header.strip().strip("<>")
    return ids


def _settled() -> bool:
    tasks = Task.objects.filter(workflow="intake.process")
    return tasks.count() == 10 and not tasks.exclude(status__in=["waiting_approval", "succeeded"]).exists()


@pytest.mark.django_db(transaction=True)
def test_mail_in_to_proposal_to_one_threaded_reply(tmp_path, operator, imap_server, smtp_server):  # noqa: F811
    controller, inbox = smtp_server
    demo.demo_studio_configure(by=operator)
    for path in sorted(SAMPLES.glob("*.eml")):
        imap_server.append(path.read_bytes())
    mailbox = Mailbox.objects.create(
        name="studio",
        host=imap_server.host,
        port=imap_server.port,
        use_ssl=False,
        username=imap_server.user,
        password=imap_server.password,
    )
    cluster = QCluster(
        "intake",
        tmp_path,
        workers=2,
        AIOS_SMTP_HOST=controller.hostname,
        AIOS_SMTP_PORT=str(controller.port),
        AIOS_SMTP_STARTTLS="false",
        AIOS_SMTP_TIMEOUT="5",
    )
    try:
        cluster.start()

        first = mailbox_poll(mailbox=mailbox)
        second = mailbox_poll(mailbox=Mailbox.objects.get(pk=mailbox.pk))

        assert (first.fetched, first.imported, first.review) == (10, 10, 0), str(first)
        assert (second.fetched, second.imported) == (0, 0), str(second)
        assert InboundMail.objects.count() == 10
        ids = _message_ids()
        assert set(Message.objects.filter(direction="inbound").values_list("message_id", flat=True)) == set(
            ids.values()
        )

        wait_for(_settled, seconds=240, what=f"the intake tasks to settle:\n{cluster.log_tail()}")

        by_file = {
            name: Task.objects.get(
                workflow="intake.process", input__message_id=Message.objects.get(message_id=mid).pk
            )
            for name, mid in ids.items()
        }
        for name in INQUIRIES:
            task = by_file[name]
            (action,) = task.actions.all()
            assert (task.status, action.kind, action.status) == (
                "waiting_approval",
                "proposal.send",
                "proposed",
            ), name
            approval = ApprovalRequest.objects.get(action=action)
            assert approval.status == "pending"
            fields = {item["field"] for item in action.inferred}
            assert {"intent", "budget", "services"} <= fields, (name, fields)
            assert any(field.startswith("line: ") for field in fields), name
            assert action.amount is not None and action.payload["in_reply_to"] == f"<{ids[name]}>"
        injection = by_file["08-injection.eml"]
        assert injection.status == "succeeded"
        assert injection.output["steps"]["route"]["route"] == "filed"
        assert not injection.actions.exists()
        newsletter = by_file["06-newsletter.eml"]
        assert newsletter.output["steps"]["route"]["route"] == "filed" and not newsletter.actions.exists()
        assert not Action.objects.filter(status="committed").exclude(kind__startswith="memory.").exists()
        assert inbox.messages == []

        # One tap: the operator approves the bakery's proposal.
        bakery = by_file["01-new-website.eml"].actions.get()
        approvals.approval_approve(approval=bakery.approval, by=operator)
        wait_for(
            lambda: Task.objects.get(pk=bakery.task_id).status == "succeeded",
            seconds=120,
            what=f"the approved proposal to be sent:\n{cluster.log_tail()}",
        )
        wait_for(lambda: len(inbox.messages) >= 1, seconds=30, what="the reply to reach the SMTP server")
    finally:
        cluster.kill()

    (reply,) = inbox.messages
    assert reply["In-Reply-To"] == f"<{ids['01-new-website.eml']}>"
    assert f"<{ids['01-new-website.eml']}>" in reply["References"]
    assert email.utils.parseaddr(reply["From"])[1] == "mara@northwind.studio"
    assert email.utils.parseaddr(reply["To"])[1] == "jonas@bergbakery.se"
    assert reply["Subject"] == "Re: New website for our bakery"
    bakery.refresh_from_db()
    proposal = Proposal.objects.get(pk=bakery.result["proposal"])
    assert proposal.status == Proposal.Status.SENT and proposal.sent_at is not None
    assert proposal.client.status == "lead" and proposal.client.email == "jonas@bergbakery.se"
    assert str(proposal.total) == bakery.result["total"]
    outbound = Message.objects.get(direction="outbound")
    assert outbound.message_id == reply["Message-ID"].strip("<>")
    assert (
        outbound.conversation_id == Message.objects.get(message_id=ids["01-new-website.eml"]).conversation_id
    )
    # The other proposals still wait: nothing else went out.
    assert ApprovalRequest.objects.filter(action__kind="proposal.send", status="pending").count() == 3
    assert json.loads(json.dumps(bakery.inferred))  # stored as plain JSON for the approval page
