"""Money in, end to end, on the real parts: PostgreSQL, a django-q2 cluster (`manage.py qcluster` in its
own processes) and a local SMTP server (aiosmtpd).

A client's "yes, go ahead" to a sent proposal ends, after the operator's approvals, in an accepted
proposal, an active project and one email carrying the invoice PDF. The PDF is checked as its reader
would: `pdftotext` reads it, its Factur-X XML (extracted by the factur-x library) passes the EN 16931
schema, and `zbarimg` decodes its EPC QR code to the studio's IBAN, the amount and the invoice number.
Then a bank statement pays it (import → proposed payment → approval → paid), while another invoice, left
unpaid, is marked overdue and reminded once per level — not on a weekend, and never after it is paid.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import facturx
import pypdfium2
import pytest

from connectors.services import mail_ingest
from connectors.statements import statement_import
from core import clock, demo
from core import services as core_services
from core.models import Invoice, Project, Proposal, Workspace
from ledger import approvals, reminders, services
from ledger.models import ApprovalRequest, Task
from tests.agents.test_proposal_answers import BILLING, sent_proposal
from tests.factories import ClientFactory, ContactFactory
from tests.ledger.cluster import QCluster, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _approve_everything_pending(by) -> int:
    pending = list(ApprovalRequest.objects.filter(status="pending").select_related("action"))
    for approval in pending:
        approvals.approval_approve(approval=approval, by=by)
    return len(pending)


def _settled(workflow: str, *, count: int = 1):
    def check():
        services.ledger_sweep()  # the scheduled sweep, played here
        tasks = list(Task.objects.filter(workflow=workflow))
        done = [t for t in tasks if t.status in ("succeeded", "waiting_approval", "dead")]
        return len(tasks) >= count and len(done) == len(tasks) and tasks

    return check


def _status(task: Task) -> str:
    return Task.objects.values_list("status", flat=True).get(pk=task.pk)


def _wait(what: str, cluster: QCluster, condition, seconds: float = 120):
    return wait_for(condition, seconds=seconds, what=f"{what}:\n{cluster.log_tail()}")


def _attachments(message) -> list[tuple[str, bytes]]:
    return [
        (part.get_filename(), part.get_payload(decode=True))
        for part in message.walk()
        if part.get_content_disposition() == "attachment"
    ]


def _qr_payload(pdf: bytes, tmp_path: Path) -> str:
    document = pypdfium2.PdfDocument(pdf)
    page_png = tmp_path / "page.png"
    document[0].render(scale=300 / 72).to_pil().save(page_png)
    document.close()
    decoded = subprocess.run(  # noqa: S603 - Debian's zbarimg on our own file
        ["zbarimg", "--quiet", "--raw", str(page_png)], capture_output=True, text=True, check=True
    )
    return decoded.stdout.strip()


def test_from_a_yes_to_paid_with_reminders_on_the_way(tmp_path, smtp_server, operator, settings):
    settings.TIME_ZONE = "Europe/Stockholm"
    controller, inbox = smtp_server
    demo.demo_studio_configure(by=operator)
    workspace = Workspace.objects.get(pk=1)
    proposal = sent_proposal(
        by=operator,
        client_name="Berg Bakery AB",
        email="jonas@bergbakery.se",
        person="Jonas Berg",
        title="Marketing website for Berg Bakery AB",
    )
    cluster = QCluster(
        "money-in",
        tmp_path,
        workers=2,
        AIOS_SMTP_HOST=controller.hostname,
        AIOS_SMTP_PORT=str(controller.port),
        AIOS_SMTP_STARTTLS="false",
        AIOS_SMTP_TIMEOUT="5",
        AIOS_TIME_ZONE="Europe/Stockholm",
    )
    try:
        cluster.start()
        # 1. The client's yes arrives; the intake proposes accept + thank-you; the operator approves.
        inbound = mail_ingest(raw=(BILLING / "b01-accept.eml").read_bytes(), path="file", source="test")
        assert inbound.status == "imported", inbound.reason
        (intake,) = _wait("the intake to propose", cluster, _settled("intake.process"))
        assert intake.status == "waiting_approval", intake.last_error
        proposal.refresh_from_db()
        assert proposal.status == "sent" and inbox.messages == []  # nothing before the operator agrees
        assert _approve_everything_pending(operator) == 2
        _wait("the acceptance to commit", cluster, lambda: _status(intake) == "succeeded")

        # 2. The first invoice is proposed for sending as its own task; approved, it leaves with its PDF.
        (send,) = _wait("the invoice email to be proposed", cluster, _settled("invoice.send"))
        assert send.status == "waiting_approval", send.last_error
        assert _approve_everything_pending(operator) == 1
        _wait("the invoice to be sent", cluster, lambda: _status(send) == "succeeded")
    finally:
        cluster.kill()

    proposal.refresh_from_db()
    assert proposal.status == "accepted"
    assert Project.objects.get(pk=proposal.project_id).status == "active"
    invoice = Invoice.objects.get(proposal=proposal)
    assert invoice.status == "sent" and invoice.number == "NW-2026-0001"
    with_pdf = [message for message in inbox.messages if _attachments(message)]
    assert len(with_pdf) == 1, [message["Subject"] for message in inbox.messages]
    (message,) = with_pdf
    assert message["To"] == "jonas@bergbakery.se"
    ((filename, pdf),) = _attachments(message)
    assert filename == "invoice-NW-2026-0001.pdf"
    # pdftotext reads it.
    (tmp_path / filename).write_bytes(pdf)
    text = subprocess.run(  # noqa: S603
        ["pdftotext", "-layout", str(tmp_path / filename), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "NW-2026-0001" in text and "Berg Bakery AB" in text and workspace.legal_name in text
    # The embedded XML passes the EN 16931 schema of the factur-x library.
    xml_name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert xml_name == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert b"<ram:ID>NW-2026-0001</ram:ID>" in xml
    # The EPC QR code: the studio's IBAN, the amount, the invoice number as reference.
    epc = _qr_payload(pdf, tmp_path).splitlines()
    assert epc[0] == "BCD" and epc[3] == "SCT"
    assert epc[6] == workspace.iban.replace(" ", "")
    assert epc[7] == f"EUR{invoice.total}"
    assert "NW-2026-0001" in epc
