"""`manage.py seed_demo`: the Northwind Studio demo workspace, complete, coherent and idempotent."""

import csv
import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db.models import Max
from django.template import Context, Engine, TemplateSyntaxError
from django.urls import reverse
from django.utils import timezone

from core import services
from core.currencies import money_round
from core.demo import DEMO_OPERATOR_EMAIL, demo_seed
from core.models import (
    ActionTemplate,
    Client,
    Contact,
    Contract,
    Conversation,
    Decision,
    Deliverable,
    Invoice,
    InvoiceSequence,
    Message,
    PricingRule,
    Project,
    Proposal,
    Workspace,
)
from tests.factories import ClientFactory

CATALOGUE = settings.BASE_DIR / "core" / "data" / "services.csv"


def _seed_command(**kwargs) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **kwargs)
    return out.getvalue()


def _mara():
    return get_user_model().objects.get(email=DEMO_OPERATOR_EMAIL)


def _catalogue() -> list[dict[str, str]]:
    with CATALOGUE.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _snapshot() -> dict[str, tuple]:
    """Row count and latest change of every core model, its history, the users and the sequences."""
    models = [*apps.get_app_config("core").get_models(), get_user_model(), EmailAddress]
    snapshot = {}
    for model in models:
        latest = None
        if any(field.name == "updated_at" for field in model._meta.get_fields()):
            latest = model.objects.aggregate(latest=Max("updated_at"))["latest"]
        snapshot[model._meta.label] = (model.objects.count(), latest)
    snapshot["sequences"] = tuple(InvoiceSequence.objects.order_by("year").values_list("year", "last_number"))
    return snapshot


def _history_models():
    """simple-history's tables of core records (the m2m through-history has no user of its own)."""
    return [
        model
        for model in apps.get_app_config("core").get_models()
        if any(field.name == "history_user" for field in model._meta.get_fields())
    ]


@pytest.fixture
def seeded(db):
    return demo_seed()


@pytest.fixture
def seeded_with_mail(seeded):
    """What `seed_demo` does: the records, the demo mailbox (whose mail is then already known), and one
    receivables sweep (the overdue invoice's first reminder)."""
    from connectors.demo import demo_mailbox_import
    from ledger.reminders import receivables_sweep

    demo_mailbox_import()
    receivables_sweep(any_hour=True)
    return seeded


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    # allauth counts sign-in attempts in the database cache, which outlives a test's transaction.
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_seed_demo_creates_the_northwind_workspace_and_its_operator():
    output = _seed_command()

    workspace = Workspace.objects.get(pk=1)
    assert (workspace.name, workspace.operator_name, workspace.operator_email) == (
        "Northwind Studio",
        "Mara Lindqvist",
        "mara@northwind.studio",
    )
    assert (workspace.invoice_prefix, workspace.default_currency, workspace.payment_terms_days) == (
        "NW",
        "EUR",
        30,
    )
    mara = _mara()
    assert (mara.username, mara.first_name, mara.last_name) == ("mara", "Mara", "Lindqvist")
    assert mara.is_superuser and mara.is_staff and mara.is_active
    assert mara.check_password("northwind-demo")
    address = EmailAddress.objects.get(user=mara)
    assert (address.email, address.primary, address.verified) == ("mara@northwind.studio", True, True)
    assert "Demo workspace Northwind Studio: created operators 1, workspaces 1, pricing rules 10, " in output
    assert "mara@northwind.studio" in output
    assert "northwind-demo" in output


def test_pricing_rules_are_exactly_the_service_catalogue(seeded):
    rows = _catalogue()

    rules = PricingRule.objects.in_bulk(field_name="service_key")
    assert set(rules) == {row["key"] for row in rows}
    for row in rows:
        rule = rules[row["key"]]
        assert (rule.name, rule.unit, rule.currency, rule.description) == (
            row["name"],
            row["unit"],
            row["currency"],
            row["description"],
        )
        assert rule.unit_price == Decimal(row["unit_price"])
        assert rule.min_units == Decimal(row["min_units"])
        assert rule.active
    assert seeded["pricing_rules"] == len(rows) == 10


def test_clients_contacts_projects_and_deliverables_cover_their_lifecycles(seeded):
    clients = Client.objects.all()
    assert 4 <= clients.count() <= 6
    assert {client.status for client in clients} == {"lead", "active", "past"}
    assert {client.kind for client in clients} == {"organisation", "person"}
    for client in clients:
        assert client.contacts.filter(is_primary=True).count() == 1, client.name
    for contact in Contact.objects.all():
        assert contact.email == contact.email.strip().lower() and "@" in contact.email
    projects = Project.objects.all()
    assert {project.status for project in projects} >= {"proposed", "active", "completed", "cancelled"}
    assert all(isinstance(project.budget, Decimal) for project in projects)
    assert set(Deliverable.objects.values_list("status", flat=True)) == {
        "planned",
        "in_progress",
        "delivered",
        "accepted",
    }
    assert Contract.objects.filter(status="signed").count() == 2
    assert seeded["clients"] == clients.count()
    assert seeded["contacts"] == Contact.objects.count()


def test_proposals_and_invoices_are_in_several_states(seeded):
    assert set(Proposal.objects.values_list("status", flat=True)) == {"draft", "sent", "accepted", "declined"}
    assert set(Invoice.objects.values_list("status", flat=True)) == {
        "draft",
        "approved",
        "sent",
        "paid",
        "overdue",
        "void",
    }
    for proposal in Proposal.objects.exclude(status="draft"):
        assert proposal.sent_at is not None
        assert proposal.title in proposal.cover_letter
    assert Proposal.objects.get(status="declined").decided_at is not None
    void = Invoice.objects.get(status="void")
    assert void.voided_at is not None and "purchase order" in void.void_reason
    reissue = Invoice.objects.get(replaces=void)
    assert reissue.status == "paid"
    assert [line.amount for line in reissue.lines.all()] == [line.amount for line in void.lines.all()]
    assert "PO 45-1187" in reissue.notes and "PO 45-1187" not in void.notes
    assert seeded["invoices"] == Invoice.objects.count() == 8
    assert seeded["proposals"] == Proposal.objects.count() == 6


def test_issued_invoices_are_numbered_gap_free_in_calendar_order(seeded):
    issued = list(Invoice.objects.exclude(status="draft").order_by("number_sequence"))

    assert [invoice.number for invoice in issued] == [f"NW-2026-{n:04d}" for n in range(1, 8)]
    issue_dates = [invoice.issue_date for invoice in issued]
    assert issue_dates == sorted(issue_dates)
    assert issue_dates[-1] < timezone.localdate(), "demo invoices were issued in the past"
    assert all(invoice.due_date == invoice.issue_date + dt.timedelta(days=30) for invoice in issued)
    assert Invoice.objects.get(status="draft").number is None
    assert InvoiceSequence.objects.get(year=2026).last_number == 7
    overdue = Invoice.objects.get(status="overdue")
    assert overdue.due_date < timezone.localdate()


def test_totals_are_decimal_sums_of_lines_priced_from_the_rules(seeded):
    rules = PricingRule.objects.in_bulk(field_name="service_key")
    documents = [*Proposal.objects.all(), *Invoice.objects.all()]
    assert len(documents) == 14

    for document in documents:
        lines = list(document.lines.all())
        assert lines, document
        assert document.subtotal == sum((line.amount for line in lines), Decimal("0"))
        assert document.tax_total == sum((line.tax_amount for line in lines), Decimal("0"))
        assert document.total == document.subtotal + document.tax_total
        for line in lines:
            rule = rules[line.service_key]
            assert (line.unit_price, line.unit) == (rule.unit_price, rule.unit)
            assert line.amount == money_round(line.quantity * line.unit_price)
    accepted = Proposal.objects.get(title="Brand refresh and online shop")
    assert (accepted.subtotal, accepted.tax_total, accepted.total) == (
        Decimal("8780.00"),
        Decimal("2195.00"),
        Decimal("10975.00"),
    )
    assert accepted.project.budget == accepted.subtotal


def test_every_record_and_history_row_names_mara(seeded):
    mara = _mara()

    for model in _history_models():
        assert not model.objects.exclude(history_user=mara).exists(), model.__name__
    assert sum(model.objects.count() for model in _history_models()) > 100
    assert set(Decision.objects.values_list("decided_by", flat=True)) == {mara.pk}
    assert all(decision.subject is not None for decision in Decision.objects.all())


def test_email_threads_are_threaded_with_unique_message_ids(seeded):
    messages = list(Message.objects.all())

    assert Conversation.objects.count() == seeded["conversations"] == 2
    assert len(messages) == seeded["messages"] == 5
    assert {message.direction for message in messages} == {"inbound", "outbound"}
    assert len({message.message_id for message in messages}) == len(messages)
    by_id = {message.message_id: message for message in messages}
    for message in messages:
        assert message.from_email == message.from_email.lower() and message.body_text
        if message.in_reply_to:
            parent = by_id[message.in_reply_to]
            assert parent.conversation_id == message.conversation_id
            assert message.references.split()[-1] == parent.message_id
            assert message.subject.startswith("Re: ") and not message.subject.startswith("Re: Re:")
    for conversation in Conversation.objects.all():
        assert conversation.last_message_at == max(m.sent_at for m in conversation.messages.all())
    reminder = Message.objects.get(message_id="20261021070000.3b9d51e8@northwind.studio")
    overdue = Invoice.objects.get(status="overdue")
    assert reminder.subject == f"Reminder: invoice {overdue.number} is overdue"
    assert f"{overdue.total} EUR" in reminder.body_text


def test_action_templates_render_with_every_variable_defined(seeded):
    strict = Engine(string_if_invalid="<<missing %s>>")
    proposal = Proposal.objects.get(status="sent")
    invoice = Invoice.objects.get(status="overdue")
    context = {
        "workspace": Workspace.objects.get(pk=1),
        "client": proposal.client,
        "contact": proposal.client.contacts.get(is_primary=True),
        "project": proposal.project,
        "proposal": proposal,
        "invoice": invoice,
        "message": Message.objects.filter(direction="inbound").first(),
        # What the reminder writer adds for the reminder levels (agents/reminders.py).
        "days_overdue": 21,
        "late_payment_text": Workspace.objects.get(pk=1).late_payment_text,
    }

    templates = {template.key: template for template in ActionTemplate.objects.all()}
    assert {t.kind for t in templates.values()} == {"proposal", "follow_up", "reminder", "invoice", "reply"}
    for template in templates.values():
        subject = strict.from_string(template.subject).render(Context(context, autoescape=False))
        body = strict.from_string(template.body).render(Context(context, autoescape=False))
        assert "<<missing" not in subject + body, template.key
        assert body.rstrip().endswith("Mara Lindqvist\nNorthwind Studio"), template.key
    reminder = strict.from_string(templates["payment_reminder"].body).render(Context(context))
    assert invoice.number in reminder and "14 October 2026" in reminder
    follow_up = strict.from_string(templates["proposal_follow_up"].body).render(Context(context))
    assert proposal.title in follow_up and "4 December 2026" in follow_up


def test_a_second_run_changes_nothing(seeded_with_mail):
    before = _snapshot()

    counts = demo_seed()
    output = _seed_command()

    assert counts == dict.fromkeys(seeded_with_mail, 0)
    assert _snapshot() == before
    assert "Demo workspace already present; nothing changed." in output
    assert "northwind-demo" in output
    assert before["core.HistoricalInvoice"][0] > 0


@pytest.mark.django_db
def test_the_seed_leaves_the_operators_own_data_alone(operator, workspace):
    own_client = ClientFactory(by=operator, name="Own Client Oy")
    services.pricing_rule_upsert(
        by=operator, service_key="logo", name="Logo, my way", unit="package", unit_price="1000.00"
    )
    own_history = own_client.history.count()

    counts = demo_seed()

    workspace.refresh_from_db()
    assert (workspace.name, workspace.invoice_prefix) == ("Test Studio", "TS")
    assert counts["workspaces"] == 0 and counts["pricing_rules"] == 9
    logo = PricingRule.objects.get(service_key="logo")
    assert (logo.name, logo.unit_price) == ("Logo, my way", Decimal("1000.00"))
    logo_line = Proposal.objects.get(title="Studio logo and launch page").lines.get(service_key="logo")
    assert logo_line.unit_price == Decimal("1000.00")
    own_client.refresh_from_db()
    assert own_client.history.count() == own_history and own_client.name == "Own Client Oy"
    assert Client.objects.count() == 1 + counts["clients"]
    assert Invoice.objects.filter(number="TS-2026-0001").exists()


@pytest.mark.django_db
def test_a_failure_midway_leaves_nothing_behind(operator):
    services.action_template_upsert(
        by=operator, key="payment_reminder", name="Broken", kind="reminder", body="{% if %}"
    )
    before = _snapshot()

    with pytest.raises(TemplateSyntaxError):
        demo_seed()

    assert _snapshot() == before
    assert not Client.objects.exists() and not InvoiceSequence.objects.exists()
    assert not get_user_model().objects.filter(email=DEMO_OPERATOR_EMAIL).exists()


def _sign_in(client, password):
    return client.post(reverse("account_login"), {"login": DEMO_OPERATOR_EMAIL, "password": password})


def test_the_demo_operator_signs_in_with_email_and_password(seeded, client):
    response = _sign_in(client, "northwind-demo")

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(_mara().pk)


def test_a_wrong_password_does_not_sign_the_demo_operator_in(seeded, client):
    response = _sign_in(client, "not-the-password")

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_demo_password_comes_from_the_environment(client, monkeypatch):
    monkeypatch.setenv("AIOS_DEMO_PASSWORD", "fjord-lantern-42")

    output = _seed_command()

    assert "fjord-lantern-42" in output and "northwind-demo" not in output
    assert _sign_in(client, "northwind-demo").status_code == 200
    assert _sign_in(client, "fjord-lantern-42").status_code == 302
    assert client.session["_auth_user_id"] == str(_mara().pk)


def test_the_demo_mailbox_fills_the_approval_queue(seeded, django_capture_on_commit_callbacks):
    """Run the intake tasks the demo mailbox queued, as the worker does: proposals and replies wait."""
    from connectors.demo import DEMO_MAIL, demo_mailbox_import
    from connectors.models import InboundMail
    from ledger import services as ledger_services
    from ledger.models import ApprovalRequest, Task

    mails = len(list(DEMO_MAIL.glob("*.eml")))
    with django_capture_on_commit_callbacks(execute=True):
        assert demo_mailbox_import() == {"imported": mails}
    assert demo_mailbox_import() == {"duplicate": mails}
    assert InboundMail.objects.filter(status="imported").count() == mails
    for task in Task.objects.filter(workflow="intake.process"):
        ledger_services.task_execute(task_id=task.pk)
    waiting = ApprovalRequest.objects.filter(status="pending")
    kinds = sorted(waiting.values_list("action__kind", flat=True))
    assert kinds.count("proposal.send") >= 5
    assert {"email.send", "note.create"} <= set(kinds)
    filed = [
        task.output["steps"]["route"]["route"]
        for task in Task.objects.filter(workflow="intake.process", status="succeeded")
    ]
    assert filed.count("filed") >= 3  # the newsletter, the injection, the out-of-office reply


@pytest.mark.django_db
def test_the_demo_shows_money_in_accepted_issued_overdue_and_a_reminder_waiting(seeded_with_mail):
    from core.models import InvoiceReminder
    from ledger.models import Task

    assert Proposal.objects.filter(status="accepted").exists()
    issued = Invoice.objects.exclude(status__in=["draft"]).exclude(number=None)
    assert issued.exists() and all(invoice.document_id for invoice in issued if invoice.status != "void")
    overdue = list(Invoice.objects.filter(status="overdue"))
    assert overdue
    for invoice in overdue:
        reminder = InvoiceReminder.objects.get(invoice=invoice)
        assert (reminder.level, reminder.status) == ("friendly", "proposed")
        assert Task.objects.filter(workflow="invoice.remind", input__client_id=invoice.client_id).exists()


@pytest.mark.django_db
def test_the_demo_statement_matches_the_demo_invoices(seeded):
    import io
    import json

    from django.conf import settings as django_settings
    from django.core.management import call_command

    out = io.StringIO()
    statement = django_settings.BASE_DIR / "core" / "data" / "statements" / "december-demo.csv"
    call_command("import_statement", str(statement), "--dry-run", "--json", stdout=out)
    entries = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]

    assert [(entry["amount"], entry["match"]["kind"]) for entry in entries] == [
        ("2812.50", "exact"),
        ("500.00", "partial"),
        ("120.00", "none"),
    ]
    assert entries[0]["match"]["invoices"] == ["NW-2026-0006"]
    assert entries[1]["match"]["invoices"] == ["NW-2026-0005"]
