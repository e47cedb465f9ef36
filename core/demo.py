"""The demo workspace "Northwind Studio": a one-person design studio run by Mara Lindqvist.

`demo_seed()` creates the operator, the workspace, the pricing rules of `data/services.csv` and the
records described in `data/demo.json`: clients with contacts, projects with deliverables, proposals,
contracts, invoices in every state, email threads, decisions, notes and action templates. Every record is
written through `core.services` by Mara, so the history reads as if she had done the work herself.

Seeding is idempotent per record: each one is looked up by a natural key first (a client by name, a
project by client and name, an invoice by client and notes, a thread by its first Message-ID…) and
left exactly as it is when found. A second run therefore writes nothing, and records the operator
created or edited are never touched. The dates sit in 2026, so invoice numbers read NW-2026-0001…
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.template import Context, Template

from core import clock, services
from core.invoicing import documents
from core.models import (
    ActionTemplate,
    Client,
    Contact,
    Contract,
    Decision,
    Deliverable,
    Invoice,
    Message,
    Note,
    PricingRule,
    Project,
    Proposal,
)
from core.selectors import workspace_get

DEMO_OPERATOR_EMAIL = "mara@northwind.studio"
DEMO_OPERATOR_NAME = "Mara Lindqvist"
DEMO_OPERATOR_USERNAME = "mara"
DEFAULT_DEMO_PASSWORD = "northwind-demo"

DATA_DIR = Path(__file__).resolve().parent / "data"

COUNT_KEYS = (
    "operators",
    "workspaces",
    "pricing_rules",
    "action_templates",
    "clients",
    "contacts",
    "projects",
    "deliverables",
    "proposals",
    "contracts",
    "invoices",
    "conversations",
    "messages",
    "decisions",
    "notes",
)

# The services' own transitions, walked in order to bring a new record to the state the data names.
PROPOSAL_STEPS = {
    Proposal.Status.DRAFT: [],
    Proposal.Status.SENT: [Proposal.Status.SENT],
    Proposal.Status.ACCEPTED: [Proposal.Status.SENT, Proposal.Status.ACCEPTED],
    Proposal.Status.DECLINED: [Proposal.Status.SENT, Proposal.Status.DECLINED],
}
INVOICE_STEPS = {
    Invoice.Status.DRAFT: [],
    Invoice.Status.APPROVED: ["issue"],
    Invoice.Status.SENT: ["issue", "send"],
    Invoice.Status.PAID: ["issue", "send", "pay"],
    Invoice.Status.OVERDUE: ["issue", "send", "overdue"],
    Invoice.Status.VOID: ["issue", "send", "void"],
}
MESSAGE_FIELDS = ("message_id", "direction", "from_email", "from_name", "to", "cc", "sent_at")


class _Leaf(NamedTuple):
    """A kind of record that hangs off a client or a project and has nothing hanging off it."""

    model: type[models.Model]
    key: str  # the field that finds it again among its parent's records
    create: Callable[..., models.Model]  # the service that writes it
    fields: tuple[str, ...]  # what it takes from the data
    refs: tuple[str, ...] = ()  # records it points at, by their name in the data ("project:<name>")


LEAF_RECORDS = {
    "contacts": _Leaf(
        Contact, "email", services.contact_create, ("name", "email", "role", "phone", "is_primary")
    ),
    "contracts": _Leaf(
        Contract,
        "title",
        services.contract_create,
        ("title", "status", "value", "start_date", "end_date", "signed_at", "terms"),
        refs=("project",),
    ),
    "deliverables": _Leaf(
        Deliverable, "title", services.deliverable_create, ("title", "status", "due_date", "estimate_hours")
    ),
}


@transaction.atomic
def demo_seed(*, password: str = DEFAULT_DEMO_PASSWORD, stdout: TextIO | None = None) -> dict[str, int]:
    """Create whatever part of the demo workspace is missing; returns how many records of each kind."""
    # Two first starts racing (say, `up` on two machines) would otherwise both find nothing and both seed.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["aios.core.demo_seed"])
    counts = _DemoSeeder(_demo_data(), password=password).run()
    if stdout is not None:
        stdout.write(_summary(counts) + "\n")
    return counts


def _catalogue_rule_upsert(row: Mapping[str, str], *, by) -> None:
    services.pricing_rule_upsert(by=by, service_key=row["key"], **_fields(row, *services.PRICING_FIELDS))


def demo_studio_configure(*, by) -> None:
    """Only the studio's settings and its service catalogue (no clients, no history): what tests and
    benchmarks of the intake need to price mail like the demo workspace does."""
    services.workspace_configure(
        by=by,
        operator_name=DEMO_OPERATOR_NAME,
        operator_email=DEMO_OPERATOR_EMAIL,
        **_demo_data()["workspace"],
    )
    for row in _service_catalogue():
        _catalogue_rule_upsert(row, by=by)


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)


def _proposal_step_times(valid_until: dt.date | None) -> dict[str, dt.datetime]:
    if valid_until is None:
        return {}
    now = clock.now()
    sent = min(_noon(valid_until - dt.timedelta(days=30)), now)
    answered = min(sent + dt.timedelta(days=7), now)
    return {"sent": sent, "accepted": answered, "declined": answered}


def _demo_data() -> dict[str, Any]:
    return json.loads((DATA_DIR / "demo.json").read_text(encoding="utf-8"))


def _service_catalogue() -> list[dict[str, str]]:
    with (DATA_DIR / "services.csv").open(encoding="utf-8", newline="") as catalogue:
        return list(csv.DictReader(catalogue))


def _summary(counts: Mapping[str, int]) -> str:
    created = [f"{kind.replace('_', ' ')} {count}" for kind, count in counts.items() if count]
    if not created:
        return "Demo workspace already present; nothing changed."
    return "Demo workspace Northwind Studio: created " + ", ".join(created) + "."


def _fields(spec: Mapping[str, Any], *fields: str) -> dict[str, Any]:
    """The named fields of a JSON spec that are present, with ISO dates and date-times parsed."""
    values = {}
    for field in fields:
        if field not in spec:
            continue
        value = spec[field]
        if field.endswith("_at"):
            value = dt.datetime.fromisoformat(value)
        elif field.endswith("_date") or field == "valid_until":
            value = dt.date.fromisoformat(value)
        values[field] = value
    return values


def _render(text: str, context: Mapping[str, Any]) -> str:
    # The templates write plain-text email, where HTML escaping would turn "Vos & Partners" into "&amp;".
    return Template(text).render(Context(dict(context), autoescape=False))


class _DemoSeeder:
    def __init__(self, data: Mapping[str, Any], *, password: str):
        self.password = password
        self.data = data
        self.by = None
        self.workspace = None
        self.rules: dict[str, PricingRule] = {}
        self.counts = dict.fromkeys(COUNT_KEYS, 0)
        self.clients: dict[str, Client] = {}
        # Records the data points at elsewhere: "project:<name>", "proposal:<title>", "invoice:<ref>".
        self.refs: dict[str, models.Model] = {}

    def run(self) -> dict[str, int]:
        self.by = self._operator()
        self._workspace()
        self._pricing_rules()
        self._action_templates()
        for spec in self.data["clients"]:
            self._client(spec)
        for spec in self.data["invoices"]:
            self._invoice(spec)
        for spec in self.data["conversations"]:
            self._conversation(spec)
        for spec in self.data["decisions"]:
            self._decision(spec)
        for spec in self.data.get("notes", []):
            self._note(spec)
        return self.counts

    def _found_or_created(self, kind: str, existing: models.Model | None, create) -> Any:
        if existing is not None:
            return existing
        self.counts[kind] += 1
        return create()

    def _leaves(self, kind: str, specs: list[Mapping[str, Any]], **parent: models.Model) -> None:
        """Records of a `LEAF_RECORDS` kind under `parent` (client=… or project=…), each found by its key."""
        leaf = LEAF_RECORDS[kind]
        for spec in specs:
            self._found_or_created(
                kind,
                leaf.model.objects.filter(**parent, **{leaf.key: spec[leaf.key]}).first(),
                lambda spec=spec: leaf.create(
                    by=self.by,
                    **parent,
                    **{ref: self.refs[f"{ref}:{spec[ref]}"] for ref in leaf.refs},
                    **_fields(spec, *leaf.fields),
                ),
            )

    # --- The operator, the workspace and its catalogues ---------------------------------------

    def _operator(self):
        user = get_user_model().objects.filter(email__iexact=DEMO_OPERATOR_EMAIL).order_by("pk").first()
        if user is not None:
            return user
        first_name, last_name = DEMO_OPERATOR_NAME.split(" ", 1)
        user = get_user_model().objects.create_superuser(
            username=DEMO_OPERATOR_USERNAME,
            email=DEMO_OPERATOR_EMAIL,
            password=self.password,
            first_name=first_name,
            last_name=last_name,
        )
        # allauth signs in by the addresses in its own table.
        EmailAddress.objects.create(user=user, email=DEMO_OPERATOR_EMAIL, primary=True, verified=True)
        self.counts["operators"] += 1
        return user

    def _workspace(self) -> None:
        # An existing workspace is the operator's own configuration: the demo adds records, never settings.
        if workspace_get() is None:
            services.workspace_configure(
                by=self.by,
                operator_name=DEMO_OPERATOR_NAME,
                operator_email=DEMO_OPERATOR_EMAIL,
                **self.data["workspace"],
            )
            self.counts["workspaces"] += 1
        self.workspace = workspace_get()

    def _pricing_rules(self) -> None:
        existing = set(PricingRule.objects.values_list("service_key", flat=True))
        for row in _service_catalogue():
            if row["key"] in existing:
                continue
            _catalogue_rule_upsert(row, by=self.by)
            self.counts["pricing_rules"] += 1
        self.rules = PricingRule.objects.in_bulk(field_name="service_key")

    def _action_templates(self) -> None:
        for spec in self.data["action_templates"]:
            if ActionTemplate.objects.filter(key=spec["key"]).exists():
                continue
            body = (DATA_DIR / "action_templates" / f"{spec['key']}.txt").read_text(encoding="utf-8")
            services.action_template_upsert(
                by=self.by,
                key=spec["key"],
                name=spec["name"],
                kind=spec["kind"],
                subject=spec["subject"],
                body=body.rstrip("\n"),
            )
            self.counts["action_templates"] += 1

    def _template_render(self, key: str, **context: Any) -> tuple[str, str]:
        """Subject and body of an action template, as they stand in the workspace now."""
        template = ActionTemplate.objects.get(key=key)
        context = {"workspace": self.workspace, **context}
        return _render(template.subject, context), _render(template.body, context)

    def _lines(self, specs: list[Mapping[str, str]], *, tax_rate: str) -> list[dict[str, Any]]:
        """Priced lines: each takes its unit and price from the workspace's rule for the service."""
        lines = []
        for spec in specs:
            rule = self.rules[spec["service_key"]]
            lines.append(
                {
                    "service_key": rule.service_key,
                    "description": spec.get("description", rule.name),
                    "quantity": spec["quantity"],
                    "unit": rule.unit,
                    "unit_price": rule.unit_price,
                    "tax_rate": tax_rate,
                }
            )
        return lines

    # --- Clients and everything that hangs off them ------------------------------------------

    def _client(self, spec: Mapping[str, Any]) -> None:
        fields = _fields(spec, *(field for field in services.CLIENT_FIELDS if field != "name"))
        client = self._found_or_created(
            "clients",
            Client.objects.filter(name=spec["name"]).order_by("pk").first(),
            lambda: services.client_create(by=self.by, name=spec["name"], **fields),
        )
        self.clients[client.name] = client
        self._leaves("contacts", spec["contacts"], client=client)
        for project in spec["projects"]:
            self._project(client, project)
        for proposal in spec["proposals"]:
            self._proposal(client, proposal)
        self._leaves("contracts", spec["contracts"], client=client)

    def _project(self, client: Client, spec: Mapping[str, Any]) -> None:
        project = self._found_or_created(
            "projects",
            Project.objects.filter(client=client, name=spec["name"]).first(),
            lambda: services.project_create(
                by=self.by,
                client=client,
                **_fields(spec, "name", "status", "budget", "start_date", "due_date", "description"),
            ),
        )
        self.refs[f"project:{project.name}"] = project
        self._leaves("deliverables", spec["deliverables"], project=project)

    def _proposal(self, client: Client, spec: Mapping[str, Any]) -> None:
        existing = Proposal.objects.filter(client=client, title=spec["title"]).first()
        self.refs[f"proposal:{spec['title']}"] = self._found_or_created(
            "proposals", existing, lambda: self._proposal_create(client, spec)
        )

    def _proposal_create(self, client: Client, spec: Mapping[str, Any]) -> Proposal:
        project = self.refs[f"project:{spec['project']}"]
        proposal = services.proposal_create(
            by=self.by,
            client=client,
            title=spec["title"],
            project=project,
            lines=self._lines(spec["lines"], tax_rate=spec["tax_rate"]),
            **_fields(spec, "valid_until"),
        )
        # The cover letter quotes the stored totals, so it is written once the lines exist.
        _, cover_letter = self._template_render(
            "proposal_cover",
            client=client,
            contact=self._primary_contact(client),
            project=project,
            proposal=proposal,
        )
        services.proposal_update(proposal=proposal, by=self.by, cover_letter=cover_letter)
        # Steps are dated back from the validity date (sent a month before, answered a week later),
        # so the demo's history reads like a real one instead of "everything happened today".
        step_at = _proposal_step_times(proposal.valid_until)
        for status in PROPOSAL_STEPS[spec["status"]]:
            services.proposal_transition(proposal=proposal, to=status, by=self.by, at=step_at.get(status))
        return proposal

    @staticmethod
    def _primary_contact(client: Client) -> Contact | None:
        return client.contacts.filter(is_primary=True).first()

    # --- Invoices ----------------------------------------------------------------------------

    def _invoice(self, spec: Mapping[str, Any]) -> None:
        """Invoices are listed by issue date, so their gap-free numbers follow the calendar."""
        client = self.clients[spec["client"]]
        invoice = self._found_or_created(
            "invoices",
            Invoice.objects.filter(client=client, notes=spec["notes"], replaces__isnull=True).first(),
            lambda: self._invoice_create(client, spec),
        )
        self.refs[f"invoice:{spec['ref']}"] = invoice
        if "reissue" in spec:
            reissue = spec["reissue"]
            self.refs[f"invoice:{reissue['ref']}"] = self._found_or_created(
                "invoices",
                Invoice.objects.filter(replaces=invoice).first(),
                lambda: self._invoice_reissue(invoice, reissue),
            )

    def _invoice_create(self, client: Client, spec: Mapping[str, Any]) -> Invoice:
        invoice = services.invoice_create(
            by=self.by,
            client=client,
            project=self.refs[f"project:{spec['project']}"],
            proposal=self.refs[f"proposal:{spec['proposal']}"],
            notes=spec["notes"],
            lines=self._lines(spec["lines"], tax_rate=spec["tax_rate"]),
        )
        return self._invoice_advance(invoice, spec)

    def _invoice_reissue(self, void: Invoice, spec: Mapping[str, Any]) -> Invoice:
        draft = services.invoice_reissue(invoice=void, by=self.by)
        services.invoice_update(invoice=draft, by=self.by, notes=spec["notes"])
        return self._invoice_advance(draft, spec)

    def _invoice_advance(self, invoice: Invoice, spec: Mapping[str, Any]) -> Invoice:
        dates = _fields(spec, "issue_date", "sent_at", "paid_at")
        for step in INVOICE_STEPS[spec["status"]]:
            if step == "issue":
                # Issued with its document, as the operator's "Issue" does: the demo shows the PDFs.
                invoice = documents.invoice_issue_with_document(
                    invoice=invoice, by=self.by, issue_date=dates["issue_date"]
                )
            elif step == "send":
                invoice = services.invoice_mark_sent(invoice=invoice, by=self.by, sent_at=dates["sent_at"])
            elif step == "pay":
                invoice = services.invoice_mark_paid(invoice=invoice, by=self.by, paid_at=dates["paid_at"])
            elif step == "overdue":
                invoice = services.invoice_mark_overdue(invoice=invoice, by=self.by)
            else:
                invoice = services.invoice_void(
                    invoice=invoice,
                    by=self.by,
                    reason=spec["void_reason"],
                    voided_at=_noon(invoice.issue_date + dt.timedelta(days=3)),
                )
        return invoice

    # --- Email threads and decisions ----------------------------------------------------------

    def _conversation(self, spec: Mapping[str, Any]) -> None:
        # A thread is recorded whole or not at all, so its first Message-ID identifies it.
        if Message.objects.filter(message_id=spec["messages"][0]["message_id"]).exists():
            return
        client = self.clients[spec["client"]]
        context = {
            "client": client,
            "contact": Contact.objects.get(client=client, email=spec["contact"]),
            "project": self.refs[f"project:{spec['project']}"],
        }
        for kind in ("proposal", "invoice"):
            if kind in spec:
                context[kind] = self.refs[f"{kind}:{spec[kind]}"]
        conversation = None
        recorded: dict[str, Message] = {}
        for message in spec["messages"]:
            subject, body = message.get("subject", ""), message.get("body_text", "")
            if "template" in message:
                subject, body = self._template_render(message["template"], **context)
            headers = {}
            parent = recorded.get(message.get("reply_to"))
            if parent is not None:
                replied = parent.subject.lower().startswith("re:")
                subject = parent.subject if replied else f"Re: {parent.subject}"
                headers = {
                    "in_reply_to": parent.message_id,
                    "references": f"{parent.references} {parent.message_id}".strip(),
                }
            if conversation is None:
                conversation = services.conversation_create(
                    by=self.by, client=client, project=context["project"], subject=subject, channel="email"
                )
                self.counts["conversations"] += 1
            recorded[message["message_id"]], created = services.message_record(
                conversation=conversation,
                by=self.by,
                channel="email",
                subject=subject,
                body_text=body,
                **headers,
                **_fields(message, *MESSAGE_FIELDS),
            )
            self.counts["messages"] += created

    def _decision(self, spec: Mapping[str, Any]) -> None:
        client = self.clients[spec["client"]]
        self._found_or_created(
            "decisions",
            Decision.objects.filter(client=client, title=spec["title"]).first(),
            lambda: services.decision_record(
                by=self.by,
                title=spec["title"],
                rationale=spec["rationale"],
                client=client,
                project=self.refs[f"project:{spec['project']}"],
                subject=self.refs[spec["subject"]],
                **_fields(spec, "decided_at"),
            ),
        )

    def _note(self, spec: Mapping[str, Any]) -> None:
        client = self.clients[spec["client"]]
        self._found_or_created(
            "notes",
            Note.objects.filter(client=client, text=spec["text"]).first(),
            lambda: services.note_create(by=self.by, text=spec["text"], client=client, pinned=spec["pinned"]),
        )
