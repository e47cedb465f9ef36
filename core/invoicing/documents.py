"""The stored documents: an issued invoice's PDF and a credit note's, rendered once from the parties
frozen at issue and kept as artifacts; drafts are only previewed. `invoice_pdf` is what the sending step
attaches."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.invoicing.content import credit_note_content, invoice_content
from core.invoicing.details import DETAILS_MISSING, invoice_details_missing
from core.invoicing.render import document_pdf
from core.models import Artifact, CreditNote, Invoice, Workspace
from core.services._common import User, _save
from core.services.conversations import artifact_store
from core.services.money import invoice_issue

PDF = "application/pdf"


def _filename(kind: str, number: str) -> str:
    return f"{kind}-{number}.pdf"


def _read(artifact: Artifact) -> bytes:
    with artifact.file.open("rb") as handle:
        return handle.read()


@transaction.atomic
def invoice_document(*, invoice: Invoice, by: User) -> Artifact:
    """The issued invoice's PDF/A-3 (with Factur-X XML): stored the first time it is needed, the same
    file ever after. A draft has no document; preview it with `invoice_pdf`."""
    locked = Invoice.objects.select_for_update(of=("self",)).select_related("document").get(pk=invoice.pk)
    if locked.status == Invoice.Status.DRAFT:
        raise ValidationError({"status": "A draft has no document yet: issue it first (or preview it)."})
    if locked.document is not None:
        return locked.document
    pdf = document_pdf(invoice_content(locked))
    artifact, _ = artifact_store(
        by=by,
        content=pdf,
        filename=_filename("invoice", locked.number),
        mime_type=PDF,
        client=locked.client,
        project=locked.project,
    )
    locked.document = artifact
    _save(locked, by=by, update_fields=["document"])
    invoice.document = artifact
    return artifact


@transaction.atomic
def invoice_issue_with_document(*, invoice: Invoice, by: User, **issue: Any) -> Invoice:
    """Issue a draft and render its document in the same transaction: if the document cannot be made,
    the invoice stays a draft and its number is given back. (Bulk paths — imports, benchmarks — call
    `invoice_issue` alone and the document is rendered the first time it is asked for.)"""
    issued = invoice_issue(invoice=invoice, by=by, **issue)
    invoice_document(invoice=issued, by=by)
    return issued


def invoice_pdf(*, invoice: Invoice, by: User) -> tuple[bytes, str]:
    """(PDF bytes, file name) of an invoice: the stored document of an issued one, a fresh preview
    (marked DRAFT, never stored) of a draft."""
    if invoice.status == Invoice.Status.DRAFT:
        # A preview shows what issuing would: refused the same way while details are missing.
        workspace = Workspace.objects.filter(pk=1).first()
        missing = invoice_details_missing(
            workspace=workspace,
            client=invoice.client,
            tax_rates=invoice.lines.values_list("tax_rate", flat=True),
        )
        if missing:
            raise ValidationError({"details": DETAILS_MISSING + "; ".join(missing) + "."})
        content = invoice_content(invoice, workspace=workspace)
        return document_pdf(content), _filename("draft-invoice", str(invoice.pk))
    artifact = invoice_document(invoice=invoice, by=by)
    return _read(artifact), artifact.filename


@transaction.atomic
def credit_note_document(*, note: CreditNote, by: User) -> Artifact:
    locked = (
        CreditNote.objects.select_for_update(of=("self",))
        .select_related("document", "invoice")
        .get(pk=note.pk)
    )
    if locked.document is not None:
        return locked.document
    artifact, _ = artifact_store(
        by=by,
        content=document_pdf(credit_note_content(locked)),
        filename=_filename("credit-note", locked.number),
        mime_type=PDF,
        client=locked.invoice.client,
        project=locked.invoice.project,
    )
    locked.document = artifact
    _save(locked, by=by, update_fields=["document"])
    note.document = artifact
    return artifact


def credit_note_pdf(*, note: CreditNote, by: User) -> tuple[bytes, str]:
    artifact = credit_note_document(note=note, by=by)
    return _read(artifact), artifact.filename
