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
import importlib
import subprocess
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import facturx
import pypdfium2
import pytest
from django.utils import timezone

from connectors.services import mail_ingest
from connectors.statements import statement_import
from core import clock, demo
from core.models import Invoice, InvoiceReminder, Project, Workspace
from ledger import approvals, policy, reminders, services
from ledger.models import ApprovalRequest, Policy, Task
from tests.agents.test_proposal_answers import BILLING, sent_proposal
from tests.ledger.cluster import QCluster, wait_for
from tests.ledger.test_receivables import sent_invoice

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
        return len(tasks) >= count and len(done) == len(tasks) and (tasks or True)

    return check


def _default_reminder_policy(by) -> None:
    """The reminder sequence a new workspace starts with (ledger migration 0007): an earlier transactional
    test's flush may have taken the row with it."""
    default = importlib.import_module("ledger.migrations.0007_reminder_policy")
    policy.policy_save(
        policy=Policy.objects.filter(kind=Policy.Kind.REMINDER).first(),
        by=by,
        name=default.NAME,
        kind=Policy.Kind.REMINDER,
        params=default.PARAMS,
    )


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


def _statement(*rows: tuple[str, str, str, Decimal]) -> bytes:
    lines = ["Date,Description,Counterparty,IBAN,Amount,Currency"]
    lines += [
        f"{day},{text},{payer},SE7280000810340009783242,{amount},EUR" for day, text, payer, amount in rows
    ]
    return ("\n".join(lines) + "\n").encode()


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=STOCKHOLM)


def _reminders_sent_to(inbox, number: str) -> list[str]:
    return [m["Subject"] for m in inbox.messages if number in (m["Subject"] or "") and not _attachments(m)]


def test_from_a_yes_to_paid_with_reminders_on_the_way(tmp_path, smtp_server, operator, settings):
    settings.TIME_ZONE = "Europe/Stockholm"
    controller, inbox = smtp_server
    demo.demo_studio_configure(by=operator)
    _default_reminder_policy(operator)
    workspace = Workspace.objects.get(pk=1)
    proposal = sent_proposal(
        by=operator,
        client_name="Berg Bakery AB",
        email="jonas@bergbakery.se",
        person="Jonas Berg",
        title="Marketing website for Berg Bakery AB",
    )
    # The cluster keeps the real time (its workers stamp sending with it), so the reminder sweeps, played
    # here with their own time, happen after it: from the Monday of the week after next, whatever today is.
    today = timezone.localdate(clock.now())
    monday = today + dt.timedelta(days=14 - today.weekday())
    # Another client's invoice, due on the Friday before that Monday and not paid on time.
    late = sent_invoice(
        operator, due=monday - dt.timedelta(days=3), email="ap@grantandfern.example", name="Grant & Fern"
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
        invoice = Invoice.objects.get(proposal=proposal)

        # 3. The unpaid one: overdue and reminded once per level, on working days only.
        def sweep(day: dt.date, hour: int = 10) -> dict:
            result = reminders.receivables_sweep(now=_at(day, hour))
            _wait(f"the reminders of {day}", cluster, _settled("invoice.remind", count=0))
            _approve_everything_pending(operator)
            _wait(f"the reminders of {day} to go", cluster, _settled("invoice.remind", count=0))
            return result

        assert sweep(monday)["reminders"] == 1  # Monday, +3 days: the friendly one
        late.refresh_from_db()
        assert late.status == "overdue"
        assert sweep(monday, hour=14)["reminders"] == 0  # that level is done
        assert sweep(monday + dt.timedelta(days=12))["reminders"] == 0  # Saturday, +15 days: quiet
        assert sweep(monday + dt.timedelta(days=14))["reminders"] == 1  # Monday, +17 days: the firm one

        # 4. The bank pays both: imported, matched, proposed; paid once the operator approves.
        report = statement_import(
            content=_statement(
                (today.isoformat(), f"Payment {invoice.number}", "Berg Bakery AB", invoice.total),
                (today.isoformat(), f"Invoice {late.number}", "Grant & Fern", late.total),
            ),
            filename="december.csv",
            by=operator,
        )
        assert report.kinds == {"exact": 2} and report.proposed == 2
        _wait("the payments to be proposed", cluster, _settled("payment.propose", count=2))
        invoice.refresh_from_db()
        assert invoice.status == "sent"  # a money change waits for the operator, always
        assert _approve_everything_pending(operator) == 2
        _wait("the payments to be recorded", cluster, _settled("payment.propose", count=2))
        _wait("both invoices to be paid", cluster, lambda: Invoice.objects.filter(status="paid").count() == 2)
        assert sweep(monday + dt.timedelta(days=28))["reminders"] == 0  # +31 days, but paid: no final one
    finally:
        cluster.kill()

    proposal.refresh_from_db()
    assert proposal.status == "accepted"
    assert Project.objects.get(pk=proposal.project_id).status == "active"
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.sent_at is not None
    levels = dict(InvoiceReminder.objects.filter(invoice=late).values_list("level", "status"))
    assert levels == {"friendly": "sent", "firm": "sent"}
    assert len(_reminders_sent_to(inbox, late.number)) == 2
    assert _reminders_sent_to(inbox, invoice.number) == []

    with_pdf = [message for message in inbox.messages if _attachments(message)]
    assert len(with_pdf) == 1, [message["Subject"] for message in inbox.messages]
    (message,) = with_pdf
    assert message["To"] == "jonas@bergbakery.se"
    ((filename, pdf),) = _attachments(message)
    assert filename == f"invoice-{invoice.number}.pdf"
    # pdftotext reads it.
    (tmp_path / filename).write_bytes(pdf)
    text = subprocess.run(  # noqa: S603
        ["pdftotext", "-layout", str(tmp_path / filename), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert invoice.number in text and "Berg Bakery AB" in text and workspace.legal_name in text
    # The embedded XML passes the EN 16931 schema of the factur-x library.
    xml_name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert xml_name == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    assert f"<ram:ID>{invoice.number}</ram:ID>".encode() in xml
    # The EPC QR code: the studio's IBAN, the amount, the invoice number as reference.
    epc = _qr_payload(pdf, tmp_path).splitlines()
    assert epc[0] == "BCD" and epc[3] == "SCT"
    assert epc[6] == workspace.iban.replace(" ", "")
    assert epc[7].startswith("EUR") and Decimal(epc[7][3:]) == invoice.total
    assert invoice.number in epc
