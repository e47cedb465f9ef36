"""Core's part of a client's data: the canonical records, their history, files and memory.

What an erase does with each (docs/adr/0012-backup-and-client-data.md):

- removed: contacts, conversations and messages (with attachments), stored files, decisions, notes,
  memory items and the recalls that returned them;
- anonymised: the client (email, website, notes; the name too unless an issued invoice names the buyer),
  project descriptions, proposal cover letters and notes, draft invoice notes, contract terms;
- kept as the law requires: issued invoices with their lines, numbers, amounts and payments, and the buyer
  name they carry; proposals' and contracts' amounts, projects and deliverables (no personal data);
- history: every history row of these records has its personal fields blanked, so an earlier version
  cannot bring back what was erased.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.models import Q

from core.models import (
    Artifact,
    BankCsvMapping,
    BankEntry,
    BankStatement,
    Client,
    Contact,
    Contract,
    Conversation,
    CreditNote,
    Decision,
    Deliverable,
    Invoice,
    InvoiceLine,
    InvoiceReminder,
    MemoryItem,
    MemoryRecall,
    Message,
    Note,
    PayerAccount,
    Payment,
    PaymentAllocation,
    Project,
    Proposal,
    ProposalLine,
    Workspace,
)
from core.privacy.bundle import ExportBundle, rows_of
from core.privacy.parts import ClientDataPart, blank_for
from core.privacy.scope import ClientScope
from core.services._common import _save

ERASED_NAME = "Erased client {pk}"

# Which rows of a table (live or history: the columns are the same) are about the client.
LINKS: dict[type[models.Model], Callable[[ClientScope], Q]] = {
    Client: lambda s: Q(id=s.pk),
    Contact: lambda s: Q(client_id=s.pk),
    Project: lambda s: Q(client_id=s.pk),
    Deliverable: lambda s: Q(project_id__in=s.projects) | Q(id__in=s.deliverables),
    Contract: lambda s: Q(client_id=s.pk),
    Artifact: lambda s: Q(client_id=s.pk) | Q(id__in=s.artifacts),
    Conversation: lambda s: Q(client_id=s.pk) | Q(id__in=s.conversations),
    Message: lambda s: Q(conversation_id__in=s.conversations) | Q(id__in=s.messages),
    Decision: lambda s: Q(client_id=s.pk) | Q(id__in=s.decisions),
    Note: lambda s: Q(client_id=s.pk) | Q(id__in=s.notes),
    Proposal: lambda s: Q(client_id=s.pk),
    ProposalLine: lambda s: Q(proposal_id__in=s.proposals),
    Invoice: lambda s: Q(client_id=s.pk),
    InvoiceLine: lambda s: Q(invoice_id__in=s.invoices),
    InvoiceReminder: lambda s: Q(invoice_id__in=s.invoices),
    CreditNote: lambda s: Q(invoice_id__in=s.invoices),
    Payment: lambda s: Q(client_id=s.pk),
    PaymentAllocation: lambda s: Q(invoice_id__in=s.invoices) | Q(payment__client_id=s.pk),
    PayerAccount: lambda s: Q(client_id=s.pk),
    MemoryItem: lambda s: Q(id__in=s.memory_items),
    MemoryRecall: lambda s: Q(id__in=s.memory_recalls),
}

# Fields that can hold personal data; blanked in history rows (and in live rows that are kept).
PERSONAL: dict[type[models.Model], tuple[str, ...]] = {
    Client: ("email", "website", "notes"),
    Contact: ("name", "email", "role", "phone"),
    Project: ("description",),
    Contract: ("terms",),
    Artifact: ("filename", "extracted_text", "file"),
    Conversation: ("subject",),
    Message: (
        "from_email",
        "from_name",
        "to",
        "cc",
        "subject",
        "body_text",
        "body_html",
        "in_reply_to",
        "references",
    ),
    Decision: ("title", "rationale"),
    Note: ("text",),
    Proposal: ("cover_letter", "notes"),
    # A payment is kept (bookkeeping law); who paid from which account is the person's.
    Payment: ("payer_name", "payer_iban", "notes"),
    PayerAccount: ("iban", "name"),
}

# Linked to a client only through a stored file of their own (the workspace's logo, a bank statement's
# file): the workspace's records, not the client's. Bank statements and their entries are the studio's
# accounting records, kept like issued invoices; a payment recorded from an entry is erased as above.
NOT_CLIENT_RECORDS: tuple[type[models.Model], ...] = (Workspace, BankStatement, BankEntry, BankCsvMapping)


def _through(model: type[models.Model], name: str) -> type[models.Model]:
    return model._meta.get_field(name).remote_field.through


def _history_m2m(model: type[models.Model]) -> list[type[models.Model]]:
    """simple-history's tables of a model's many-to-many fields (Message.attachments)."""
    history = model.history.model
    return [
        rel.related_model
        for rel in history._meta.related_objects
        if rel.related_model.__name__.startswith(history.__name__ + "_")
    ]


def _has_issued_invoices(scope: ClientScope) -> bool:
    return Invoice.objects.filter(client_id=scope.pk).exclude(status=Invoice.Status.DRAFT).exists()


def _history_models() -> list[tuple[type[models.Model], type[models.Model]]]:
    return [(model, model.history.model) for model in LINKS if hasattr(model, "history")]


def covered_models() -> tuple[type[models.Model], ...]:
    covered: list[type[models.Model]] = list(LINKS)
    covered += [history for _, history in _history_models()]
    covered += [_through(Message, "attachments"), _through(MemoryRecall, "items")]
    covered += _history_m2m(Message)
    covered += [
        *NOT_CLIENT_RECORDS,
        *(model.history.model for model in NOT_CLIENT_RECORDS if hasattr(model, "history")),
    ]
    return tuple(covered)


def inventory(scope: ClientScope) -> dict[str, int]:
    counts = {model._meta.label: model.objects.filter(LINKS[model](scope)).count() for model in LINKS}
    counts["history rows"] = sum(
        history.objects.filter(LINKS[model](scope)).count() for model, history in _history_models()
    )
    return {label: count for label, count in counts.items() if count}


def export(scope: ClientScope, bundle: ExportBundle) -> dict[str, int]:
    counts = {}
    for model, link in LINKS.items():
        queryset = model.objects.filter(link(scope))
        exclude = ("embedding", "search") if model is MemoryItem else ()
        counts[model._meta.label] = bundle.add_rows(
            "records", model._meta.label, rows_of(queryset, exclude=exclude)
        )
    for model, history in _history_models():
        counts[history._meta.label] = bundle.add_rows(
            "history", model._meta.label, rows_of(history.objects.filter(LINKS[model](scope)))
        )
    attachments = _through(Message, "attachments").objects.filter(message_id__in=scope.messages)
    bundle.add_json(
        "records/core.Message.attachments.json",
        list(attachments.order_by("pk").values("message_id", "artifact_id")),
    )
    for history_links in _history_m2m(Message):
        counts[history_links._meta.label] = bundle.add_rows(
            "history",
            history_links._meta.label,
            rows_of(history_links.objects.filter(message_id__in=scope.messages)),
        )
    for artifact in Artifact.objects.filter(id__in=scope.artifacts).order_by("pk"):
        if artifact.file and artifact.file.storage.exists(artifact.file.name):
            with artifact.file.open("rb") as handle:
                bundle.add_file(f"files/artifacts/{artifact.pk}-{artifact.filename}", handle.read())
            counts["files"] = counts.get("files", 0) + 1
    return {label: count for label, count in counts.items() if count}


def _blank(model: type[models.Model], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: blank_for(model._meta.get_field(name)) for name in names}


def erase(scope: ClientScope, *, by: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    keep_name = _has_issued_invoices(scope)
    # Memory first: recalls quote items' text, items quote the records.
    counts["memory recalls"] = MemoryRecall.objects.filter(id__in=scope.memory_recalls).delete()[0]
    counts["memory items"] = MemoryItem.objects.filter(id__in=scope.memory_items).delete()[0]
    # A file is stored once per content: one that another client sent too stays for them (unlinked here).
    shared = Artifact.objects.filter(id__in=scope.artifacts).filter(
        Q(messages__in=Message.objects.exclude(id__in=scope.messages))
        | Q(contracts__in=Contract.objects.exclude(client_id=scope.pk))
    )
    shared_ids = set(shared.values_list("pk", flat=True))
    Artifact.objects.filter(id__in=shared_ids, client_id=scope.pk).update(client=None, project=None)
    artifacts = list(Artifact.objects.filter(id__in=scope.artifacts).exclude(id__in=shared_ids))
    Contract.objects.filter(client_id=scope.pk).update(document=None)
    counts["messages"] = Message.objects.filter(id__in=scope.messages).count()
    Conversation.objects.filter(id__in=scope.conversations).delete()
    counts["conversations"] = len(scope.conversations)
    for artifact in artifacts:
        if artifact.file:
            artifact.file.storage.delete(artifact.file.name)
        artifact.delete()
    counts["files"] = len(artifacts)
    counts["decisions"] = Decision.objects.filter(id__in=scope.decisions).delete()[0]
    counts["notes"] = Note.objects.filter(id__in=scope.notes).delete()[0]
    counts["contacts"] = Contact.objects.filter(client_id=scope.pk).delete()[0]
    counts["payer accounts"] = PayerAccount.objects.filter(client_id=scope.pk).delete()[0]
    Payment.objects.filter(client_id=scope.pk).update(**_blank(Payment, PERSONAL[Payment]))
    # Kept records lose their free text; issued invoices are left exactly as issued.
    Project.objects.filter(client_id=scope.pk).update(**_blank(Project, PERSONAL[Project]))
    Contract.objects.filter(client_id=scope.pk).update(**_blank(Contract, PERSONAL[Contract]))
    Proposal.objects.filter(client_id=scope.pk).update(**_blank(Proposal, PERSONAL[Proposal]))
    Invoice.objects.filter(client_id=scope.pk, status=Invoice.Status.DRAFT).update(notes="")
    # Why reminders were held quotes the client's mail (its subject); the reminders themselves stay.
    Invoice.objects.filter(client_id=scope.pk).update(reminders_pause_reason="")
    InvoiceReminder.objects.filter(invoice_id__in=scope.invoices).update(note="")
    # History: earlier versions must not bring back what was erased.
    scrubbed = 0
    for model, history in _history_models():
        fields = PERSONAL.get(model, ())
        if model is Client and not keep_name:
            fields = (*fields, "name")
        if model is Invoice:
            scrubbed += history.objects.filter(LINKS[model](scope)).update(reminders_pause_reason="")
            # A draft's notes are personal; an issued invoice's history is part of the legal record.
            scrubbed += history.objects.filter(LINKS[model](scope), status=Invoice.Status.DRAFT).update(
                notes=""
            )
        if fields:
            scrubbed += history.objects.filter(LINKS[model](scope)).update(**_blank(history, fields))
    counts["history rows blanked"] = scrubbed
    client = Client.objects.get(pk=scope.pk)
    client.email = client.website = client.notes = ""
    if not keep_name:
        client.name = ERASED_NAME.format(pk=client.pk)
    client.status = Client.Status.PAST
    # Through the model's save so the history shows the erasure as a change of its own (by the task).
    _save(client, by=by, update_fields=["email", "website", "notes", "name", "status"])
    counts["client name kept (issued invoices)"] = int(keep_name)
    return counts


PART = ClientDataPart(
    name="core",
    export=export,
    erase=erase,
    inventory=inventory,
    models=covered_models,
    order=0,
)
