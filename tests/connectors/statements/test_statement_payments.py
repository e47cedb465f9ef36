"""A statement imported for real: stored once, each matched credit proposes a payment through the ledger
that waits for the operator (money floor), approved in a batch from the phone page; then invoices are
paid, a partial payment leaves the rest open and an overpayment is the client's credit."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from core import selectors
from core import services as core_services
from core.models import Artifact, BankEntry, BankStatement, Client, Invoice, Payment, PaymentAllocation
from ledger import approvals, services
from ledger.models import Action, ApprovalRequest, Policy, Task
from tests.connectors.statements.conftest import DATA, import_file

pytestmark = pytest.mark.django_db


def run_payment_tasks() -> list[Task]:
    tasks = list(Task.objects.filter(workflow="payment.propose").order_by("created_at"))
    for task in tasks:
        services.task_execute(task_id=task.pk)
    return tasks


def status(number: str) -> str:
    return Invoice.objects.get(number=number).status


def test_import_proposes_payments_that_wait_for_the_operator_and_approval_settles_invoices(
    open_invoices, operator, operator_client
):
    out = import_file(DATA / "november.camt053.xml")
    assert "10 new entries" in out and "6 payments proposed" in out
    statement = BankStatement.objects.get()
    assert statement.entries.count() == 10 and statement.artifact is not None
    assert BankEntry.objects.filter(status="proposed").count() == 6
    assert BankEntry.objects.filter(status="open", amount__gt=0).count() == 2  # ambiguous + none
    waiting = {e.counterparty: e.match for e in selectors.bank_entries_waiting()}
    assert waiting["J. Smith"]["invoices"] == ["NW-2026-0009", "NW-2026-0010"]
    assert waiting["Hetzner Online GmbH"]["kind"] == "none"

    tasks = run_payment_tasks()
    assert len(tasks) == 6
    # Nothing moved: every payment waits for the operator, decided by the money floor.
    assert Payment.objects.count() == 0
    pending = list(ApprovalRequest.objects.filter(status="pending", action__kind="payment.record"))
    assert len(pending) == 6
    assert all(
        "payments and changes to money records always need the operator" in a.action.decision_reason
        for a in pending
    )

    # The phone's approval list shows what each payment settles; the detail page shows the payload.
    listing = operator_client.get(reverse("approvals:list"))
    assert b"Record 1400.00 EUR from Berg Bakery AB: settles NW-2026-0001" in listing.content
    assert b"pays part of NW-2026-0006" in listing.content
    detail = operator_client.get(reverse("approvals:detail", args=[pending[0].pk]))
    assert detail.status_code == 200 and b"money" in detail.content

    # The phone page approves them in one batch.
    response = operator_client.post(
        reverse("approvals:batch"), {"ids": [a.pk for a in pending], "decision": "approve"}
    )
    assert response.status_code == 302
    run_payment_tasks()

    assert Action.objects.filter(kind="payment.record", status="committed").count() == 6
    assert {
        number: status(number) for number in [f"NW-2026-000{n}" for n in (1, 2, 4, 5, 7, 8)]
    } == dict.fromkeys([f"NW-2026-000{n}" for n in (1, 2, 4, 5, 7, 8)], "paid")
    first = Invoice.objects.get(number="NW-2026-0001")
    assert first.paid_at.date().isoformat() == "2026-11-02"
    assert first.history.first().status == "paid"  # the change is in the record's history
    # Partial: 1500 of 3000 paid, the rest open, the invoice not paid.
    petit = Invoice.objects.get(number="NW-2026-0006")
    assert petit.status == "approved"
    assert selectors.invoice_open_amount(invoice=petit) == Decimal("1500.00")
    # Overpaid: 1000 for 990, 10 kept as Grant & Fern's credit.
    grant = Client.objects.get(email="oliver@grantandfern.co.uk")
    assert selectors.client_credit(client_id=grant.pk) == {"EUR": Decimal("10.00")}
    # Unmatched and ambiguous credits stay with the operator; nothing was paid for them.
    assert status("NW-2026-0009") == "approved" and status("NW-2026-0010") == "approved"
    assert BankEntry.objects.filter(status="recorded").count() == 6
    # The payer's account is now known for the client (Fjord paid from an IBAN not known before).
    assert (
        Client.objects.get(email="ingrid@fjordkaffe.no")
        .payer_accounts.filter(iban="NO9386011117947")
        .exists()
    )
    assert mail.outbox == []  # nothing is sent to anyone


def test_importing_the_same_statement_twice_creates_nothing_new(open_invoices):
    import_file(DATA / "november.mt940")
    counts = (
        BankStatement.objects.count(),
        BankEntry.objects.count(),
        Task.objects.count(),
        Artifact.objects.count(),
    )

    out = import_file(DATA / "november.mt940")

    assert "imported before" in out
    assert (
        (
            BankStatement.objects.count(),
            BankEntry.objects.count(),
            Task.objects.count(),
            Artifact.objects.count(),
        )
        == counts
        == (1, 10, 6, 1)
    )


def test_the_same_bookings_in_another_format_are_not_stored_or_proposed_twice(open_invoices):
    import_file(DATA / "november-en.csv")
    out = import_file(DATA / "november-de.csv")
    assert "0 new entries" in out and "0 payments proposed" in out
    assert BankEntry.objects.count() == 10
    assert Task.objects.filter(workflow="payment.propose").count() == 6


def _broken(name: str, old: bytes, new: bytes) -> bytes:
    content = (DATA / name).read_bytes()
    assert old in content
    return content.replace(old, new, 1)


CAMT, NTRY4 = "november.camt053.xml", b"<Ntry><NtryRef>STMT-2026-11-0004"
MALFORMED = {
    "broken.camt053.xml": (_broken(CAMT, b"</Ntry>\n" + NTRY4, b"\n" + NTRY4), "XML line"),
    "noamount.camt053.xml": (
        _broken(CAMT, b'<Amt Ccy="EUR">2050.00</Amt><CdtDbtInd>', b"<CdtDbtInd>"),
        "Ntry[4]: no <Amt>",
    ),
    "broken.mt940": (_broken("november.mt940", b":61:2611051105C", b":61:26110X1105C"), "line 12"),
    "broken.ofx": (_broken("november.ofx", b"<TRNAMT>2050.00<", b"<TRNAMT>lots<"), "OFX"),
    "broken-en.csv": (_broken("november-en.csv", b"2050.00", b"20x50"), "line 5"),
    "broken-de.csv": (_broken("november-de.csv", b"05.11.2026;05.11", b"35.13.2026;05.11"), "line 5"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_statement_names_the_fault_keeps_the_bytes_and_changes_nothing(
    open_invoices, tmp_path, name
):
    content, where = MALFORMED[name]
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(CommandError) as failed:
        call_command("import_statement", str(path), stdout=StringIO())

    assert where in str(failed.value) and "kept as an artifact" in str(failed.value)
    kept = Artifact.objects.get()
    assert kept.file.read() == content
    assert BankStatement.objects.count() == 0 and BankEntry.objects.count() == 0
    assert not Task.objects.filter(workflow="payment.propose").exists()
    assert Payment.objects.count() == 0


def test_an_xml_statement_with_entities_is_refused_without_expanding_them(open_invoices, tmp_path):
    path = tmp_path / "evil.xml"
    path.write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<Document><BkToCstmrStmt><Stmt>&x;</Stmt></BkToCstmrStmt></Document>"
    )
    with pytest.raises(CommandError, match="DTD"):
        call_command("import_statement", str(path), stdout=StringIO())
    assert BankEntry.objects.count() == 0


def test_a_transfer_from_client_a_naming_client_b_invoice_goes_to_the_operator_and_pays_nothing(
    open_invoices, tmp_path
):
    """Holm Ceramics' known IBAN pays exactly Kim Family Dental's invoice, naming it: the text alone never
    settles another client's invoice. The entry waits as ambiguous; no payment is proposed for B, nothing
    is sent to anyone."""
    path = tmp_path / "a-pays-b.csv"
    path.write_text(
        "Date,Description,Counterparty,IBAN,Amount,Currency\n"
        "2026-11-21,Invoice NW-2026-0003,Holm Ceramics ApS,DK5000400440116243,2340.00,EUR\n"
    )
    out = StringIO()
    call_command("import_statement", str(path), "--dry-run", "--json", stdout=out)
    assert '"kind": "ambiguous"' in out.getvalue()

    import_file(path)

    entry = BankEntry.objects.get()
    assert entry.status == "open" and entry.match_kind == "ambiguous"
    assert "another client" in " ".join(entry.match["reasons"])
    assert not Task.objects.filter(workflow="payment.propose").exists()
    assert status("NW-2026-0003") == "approved"
    assert Payment.objects.count() == 0 and PaymentAllocation.objects.count() == 0
    assert mail.outbox == []


def test_a_payment_waits_for_the_operator_even_with_a_policy_that_allows_everything(open_invoices):
    """The hard floor: a row written past the policy editor cannot let a payment commit alone."""
    Policy.objects.create(name="allow everything", kind="approval", params={"effect": "commit"})
    import_file(DATA / "november-en.csv")

    run_payment_tasks()

    assert Action.objects.filter(kind="payment.record", status="proposed").count() == 6
    assert Action.objects.filter(kind="payment.record", status="committed").count() == 0
    assert Payment.objects.count() == 0
    assert not Invoice.objects.filter(status="paid").exists()


def test_an_invoice_paid_meanwhile_refuses_the_stale_payment_and_changes_nothing(open_invoices, operator):
    import_file(DATA / "november-en.csv")
    run_payment_tasks()
    berg = Invoice.objects.get(number="NW-2026-0001")
    core_services.invoice_mark_paid(invoice=berg, by=operator)
    approval = ApprovalRequest.objects.get(action__payload__allocations__0__invoice_id=berg.pk)
    approvals.approval_approve(approval=approval, by=operator)

    services.task_execute(task_id=approval.task_id)

    assert Payment.objects.count() == 0
    assert Action.objects.get(pk=approval.action_id).status != "committed"
