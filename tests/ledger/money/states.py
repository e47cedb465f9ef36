"""Invoices brought through their life by the real services and the real conductor, for the money pages,
the API and the timeline: issued, sent, overdue, reminded, paid — each step by the operator or a task."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from core import clock
from core import services as core_services
from core.invoicing import documents
from core.models import BankEntry, Invoice
from ledger import approvals, services
from ledger.models import ApprovalRequest, Task
from tests.factories import ClientFactory, ContactFactory, InvoiceFactory
from tests.ledger.proposers import propose

LINES = [{"description": "Brand workshop", "quantity": "1", "unit_price": "1400.00", "tax_rate": "0"}]


def today() -> dt.date:
    return timezone.localdate(clock.now())


def approve_and_run(task: Task, operator) -> None:
    for approval in ApprovalRequest.objects.filter(task=task, status="pending"):
        approvals.approval_approve(approval=approval, by=operator)
    services.task_execute(task_id=task.pk)


def overdue_invoice(
    operator, *, name: str = "Berg Bakery AB", email: str = "ap@berg.example", days: int = 12
):
    """An invoice issued by the operator, sent, and made overdue by the sweep's statement `days` after
    its due date."""
    client = ClientFactory(name=name, email=email)
    ContactFactory(client=client, name="Jonas", email=email, is_primary=True)
    invoice = InvoiceFactory(client=client, lines=LINES, by=operator)
    issued_on = today() - dt.timedelta(days=30 + days)
    invoice = documents.invoice_issue_with_document(invoice=invoice, by=operator, issue_date=issued_on)
    core_services.invoice_mark_sent(invoice=invoice, by=operator)
    core_services.invoices_overdue_mark(today=today())
    invoice.refresh_from_db()
    return invoice


def remind(invoice: Invoice, operator, *, level: str = "friendly", key: str = "remind") -> Task:
    """The sweep drafts the level for a task; the task proposes the email; the operator approves; sent."""
    email = invoice.client.email
    action = {
        "kind": "invoice.remind",
        "summary": f"{level} reminder of {invoice.number}",
        "payload": {
            "to": [email],
            "subject": f"Reminder: invoice {invoice.number}",
            "body": "Hello,\n\nA friendly reminder.",
            "invoice_id": invoice.pk,
            "level": level,
        },
    }
    task, _ = propose(action, key=key, run=False)
    days = (today() - invoice.due_date).days
    core_services.invoice_reminders_propose(
        due=[core_services.ReminderDue(invoice.pk, invoice.client_id, level, days)],
        task_ids={invoice.pk: str(task.pk)},
    )
    services.task_execute(task_id=task.pk)
    approve_and_run(task, operator)
    return task


def pay(
    invoice: Invoice, operator, *, amount: str = "1400.00", key: str = "pay", reference: str = ""
) -> Task:
    """A payment.record action allocating `amount` to the invoice, approved by the operator."""
    payload = {
        "client_id": invoice.client_id,
        "amount": amount,
        "currency": invoice.currency,
        "received_on": today().isoformat(),
        "reference": reference or f"Invoice {invoice.number}",
        "payer_name": invoice.client.name,
        "source": "email",
        "allocations": [{"invoice_id": invoice.pk, "number": invoice.number, "amount": amount}],
    }
    task, _ = propose({"kind": "payment.record", "payload": payload}, key=key)
    approve_and_run(task, operator)
    return task


@dataclass
class Credit:
    amount: str
    counterparty: str
    remittance: str
    match_kind: str
    match: dict


def bank_entries(operator, credits: list[Credit]) -> list[BankEntry]:
    """A stored statement with these credits, as the importer stores them."""
    rows = [
        core_services.EntryData(
            fingerprint=f"fp-{index}-{credit.counterparty}",
            entry_ref=f"REF{index}",
            booked_on=today(),
            amount=Decimal(credit.amount),
            currency="EUR",
            counterparty=credit.counterparty,
            counterparty_iban="SE3550000000054910000003",
            remittance=credit.remittance,
            match_kind=credit.match_kind,
            match=credit.match,
        )
        for index, credit in enumerate(credits)
    ]
    _, entries, _ = core_services.bank_statement_store(
        sha256="0" * 64,
        filename="november.xml",
        format="camt053",
        account="SE4550000000058398257466",
        statement_ref="S1",
        entries=rows,
        artifact=None,
        by=operator,
    )
    return entries
