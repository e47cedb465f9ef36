"""The committer of `invoice.send`: issue the invoice if it is a draft (its gap-free number, its PDF/A-3
frozen), and put the email that carries the PDF in the outbox, in the client's thread. The invoice says
"sent" once the mail server took the email, not before (ADR 0014).

The email was written before the approval, when a draft had no number yet: it quotes the number and due
date issuing would give. If another invoice was issued in between, or the day changed, the committer
puts the real ones in the subject and body, so the email always says what the attached invoice says.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.dateformat import format as date_format

from agents.kernel import NeedsReview
from core import selectors as core_selectors
from core import services as core_services
from core.invoicing import documents
from core.models import Invoice
from ledger.commit.email import EmailPayload, outbox_email_for
from ledger.commit.registry import EXTERNAL, committer
from ledger.models import Action, OutboxEmail, Task

_DATE_IN_TEXT = "j F Y"  # how the invoice_send template writes the due date


class InvoiceSendPayload(EmailPayload):
    invoice_id: int
    number_expected: str = ""  # the number the text quotes for a draft
    due_date_expected: str = ""  # ISO date the text quotes


def _quoted_right(payload: InvoiceSendPayload, invoice: Invoice) -> InvoiceSendPayload:
    """The payload with the issued number and due date where the text quoted expected ones."""
    swaps = []
    if payload.number_expected and payload.number_expected != invoice.number:
        swaps.append((payload.number_expected, invoice.number))
    if payload.due_date_expected and invoice.due_date is not None:
        expected = dt.date.fromisoformat(payload.due_date_expected)
        if expected != invoice.due_date:
            swaps.append((date_format(expected, _DATE_IN_TEXT), date_format(invoice.due_date, _DATE_IN_TEXT)))
    subject, body = payload.subject, payload.body
    for old, new in swaps:
        subject, body = subject.replace(old, new), body.replace(old, new)
    return payload.model_copy(update={"subject": subject, "body": body})


def _recipients_check(payload: InvoiceSendPayload, invoice: Invoice) -> None:
    """An invoice never goes to another client's people (an edit or a mix-up): their data is not theirs."""
    for address in payload.to + payload.cc:
        owner = core_selectors.client_id_for_address(email=str(address))
        if owner is not None and owner != invoice.client_id:
            # Not a slip to retry: the task stops for the operator (dead letter, with a notice).
            raise NeedsReview(f"{address} belongs to another client: invoice {invoice.pk} is not sent there.")


def invoice_send_delivered(payload: InvoiceSendPayload, action: Action, email: OutboxEmail) -> None:
    """The mail server took the invoice: an issued invoice is sent as of that moment."""
    invoice = Invoice.objects.filter(pk=payload.invoice_id).first()
    if invoice is not None and invoice.status == Invoice.Status.APPROVED:
        core_services.invoice_mark_sent(invoice=invoice, by=None, sent_at=email.sent_at)


@committer(
    "invoice.send",
    effect=EXTERNAL,
    irreversible_note="A sent invoice cannot be unsent: void it (a credit note is issued) and send another.",
    delivered=invoice_send_delivered,
)
def commit_invoice_send(payload: InvoiceSendPayload, action: Action, task: Task) -> dict[str, Any]:
    invoice = Invoice.objects.select_for_update(of=("self",)).get(pk=payload.invoice_id)
    if invoice.status == Invoice.Status.VOID:
        return {"invoice": invoice.pk, "sent": False, "why": f"invoice {invoice.number} is void"}
    _recipients_check(payload, invoice)
    if invoice.status == Invoice.Status.DRAFT:
        invoice = documents.invoice_issue_with_document(invoice=invoice, by=None)
    artifact = documents.invoice_document(invoice=invoice, by=None)
    email = outbox_email_for(action, _quoted_right(payload, invoice))
    email.attachments.add(artifact)
    return {
        "invoice": invoice.pk,
        "number": invoice.number,
        "sent": True,
        "outbox_email": email.pk,
        "attachment": artifact.filename,
    }
