"""Everything the workspace holds about one client, as ids: what an export contains and an erase reaches.

The scope is read once, before anything is erased, and handed to every part: the ledger finds the tasks
about the client through the client's messages and addresses, which core deletes later in the same erase.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from core.models import (
    Artifact,
    Client,
    Contact,
    Contract,
    Conversation,
    Decision,
    Deliverable,
    Invoice,
    MemoryItem,
    MemoryRecall,
    Message,
    Note,
    Project,
    Proposal,
)


@dataclass
class ClientScope:
    client: Client
    contacts: list[int] = field(default_factory=list)
    projects: list[int] = field(default_factory=list)
    deliverables: list[int] = field(default_factory=list)
    contracts: list[int] = field(default_factory=list)
    proposals: list[int] = field(default_factory=list)
    invoices: list[int] = field(default_factory=list)
    conversations: list[int] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)
    message_ids: list[str] = field(default_factory=list)  # their Message-ID headers
    artifacts: list[int] = field(default_factory=list)
    decisions: list[int] = field(default_factory=list)
    notes: list[int] = field(default_factory=list)
    memory_items: list[int] = field(default_factory=list)
    memory_recalls: list[int] = field(default_factory=list)
    # Email addresses of the client and its people (current and earlier contacts, senders of its mail).
    addresses: list[str] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.client.pk

    def sources(self) -> list[tuple[str, int]]:
        """(label, pk) of every record about the client that memory or a task may name as its source."""
        pairs = []
        for label, ids in (
            ("core.client", [self.pk]),
            ("core.contact", self.contacts),
            ("core.project", self.projects),
            ("core.proposal", self.proposals),
            ("core.invoice", self.invoices),
            ("core.conversation", self.conversations),
            ("core.message", self.messages),
            ("core.artifact", self.artifacts),
            ("core.decision", self.decisions),
            ("core.note", self.notes),
            ("core.contract", self.contracts),
        ):
            pairs += [(label, pk) for pk in ids]
        return pairs


def _ids(queryset) -> list[int]:
    return sorted(set(queryset.values_list("pk", flat=True)))


def _source_q(
    pairs: list[tuple[str, int]], *, type_field: str = "source_type", id_field: str = "source_id"
) -> Q:
    """Rows whose generic relation (memory's source, a decision's subject) points at one of `pairs`."""
    from django.contrib.contenttypes.models import ContentType

    by_label: dict[str, list[int]] = {}
    for label, pk in pairs:
        by_label.setdefault(label, []).append(pk)
    condition = Q(pk__in=[])
    for label, pks in by_label.items():
        app_label, model = label.split(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
        if content_type is not None:
            condition |= Q(**{type_field: content_type, f"{id_field}__in": pks})
    return condition


def client_scope(*, client: Client) -> ClientScope:
    scope = ClientScope(client=client)
    scope.contacts = _ids(Contact.objects.filter(client=client))
    scope.projects = _ids(Project.objects.filter(client=client))
    scope.deliverables = _ids(Deliverable.objects.filter(project__client=client))
    scope.contracts = _ids(Contract.objects.filter(client=client))
    scope.proposals = _ids(Proposal.objects.filter(client=client))
    scope.invoices = _ids(Invoice.objects.filter(client=client))
    scope.conversations = _ids(Conversation.objects.filter(client=client))
    messages = Message.objects.filter(conversation__client=client)
    scope.messages = _ids(messages)
    scope.message_ids = sorted(filter(None, messages.values_list("message_id", flat=True)))
    scope.artifacts = _ids(
        Artifact.objects.filter(
            Q(client=client) | Q(messages__conversation__client=client) | Q(contracts__client=client)
        )
    )
    about_records = _source_q(scope.sources(), type_field="subject_type", id_field="subject_id")
    scope.decisions = _ids(
        Decision.objects.filter(Q(client=client) | Q(project__client=client) | about_records)
    )
    scope.notes = _ids(Note.objects.filter(Q(client=client) | Q(project__client=client)))
    items = MemoryItem.objects.filter(Q(client=client) | _source_q(scope.sources()))
    scope.memory_items = _ids(items)
    scope.memory_recalls = _ids(
        MemoryRecall.objects.filter(Q(client=client) | Q(items__in=scope.memory_items))
    )
    addresses = {client.email} if client.email else set()
    addresses |= set(Contact.objects.filter(client=client).values_list("email", flat=True))
    addresses |= set(Contact.history.filter(client_id=client.pk).values_list("email", flat=True))
    addresses |= set(
        messages.filter(direction=Message.Direction.INBOUND).values_list("from_email", flat=True)
    )
    scope.addresses = sorted(address.lower() for address in addresses if address)
    return scope
