"""Every core admin page is registered and renders, only for staff, and list pages cost a fixed number
of queries whatever the number of rows."""

import datetime as dt
import re
import uuid
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from core import services
from core.admin.base import ServiceAdmin
from core.memory.services import memory_item_add, memory_recall
from core.models import (
    BankCsvMapping,
    Client,
    Contact,
    Contract,
    Conversation,
    Decision,
    Deliverable,
    Invoice,
    InvoiceLine,
    Message,
    PricingRule,
    Project,
    Proposal,
)
from ledger import services as ledger_services
from tests.core.admin.pages import url
from tests.factories import (
    ClientFactory,
    ContactFactory,
    InvoiceFactory,
    PricingRuleFactory,
    ProjectFactory,
    ProposalFactory,
    UserFactory,
)

CORE_MODELS = sorted(
    (model for model in admin.site._registry if model._meta.app_label == "core"),
    key=lambda model: model._meta.model_name,
)


CORE_MODEL_IDS = [model._meta.model_name for model in CORE_MODELS]


@pytest.fixture
def records(operator, workspace, settings, tmp_path):
    """One of everything, made through the services."""
    settings.MEDIA_ROOT = tmp_path
    client = ClientFactory(by=operator, name="Berg Bakery AB")
    project = ProjectFactory(client=client, by=operator, name="New website")
    services.deliverable_create(project=project, by=operator, title="Homepage", due_date=dt.date(2026, 12, 1))
    ContactFactory(client=client, by=operator)
    proposal = ProposalFactory(client=client, project=project, by=operator)
    issued = services.invoice_issue(
        invoice=InvoiceFactory(client=client, project=project, by=operator), by=operator
    )
    draft = InvoiceFactory(client=client, by=operator)
    # A void invoice, and so a credit note.
    services.invoice_void(
        invoice=services.invoice_issue(invoice=InvoiceFactory(client=client, by=operator), by=operator),
        by=operator,
        reason="Issued twice.",
    )
    artifact, _ = services.artifact_store(
        by=operator,
        content=b"%PDF-1.4 signed",
        filename="contract.pdf",
        mime_type="application/pdf",
        client=client,
    )
    services.contract_create(
        client=client,
        by=operator,
        title="Framework agreement",
        value="12000",
        project=project,
        document=artifact,
    )
    conversation = services.conversation_create(by=operator, client=client, subject="Website questions")
    services.message_record(
        conversation=conversation,
        by=operator,
        direction="inbound",
        message_id="m1@berg.se",
        from_email="jonas@berg.se",
        subject="Hello",
        sent_at=timezone.now(),
    )
    services.decision_record(by=operator, title="Go with option B", client=client, subject=proposal)
    PricingRuleFactory(by=operator)
    services.action_template_upsert(
        key="follow_up", by=operator, name="Follow-up", kind="follow_up", body="Hello {{ name }}"
    )
    services.api_token_create(user=operator, name="Laptop")
    services.note_create(by=operator, text="Jonas answers fastest by phone.", client=client, pinned=True)
    memory_item_add(text="Jonas answers fastest by phone.", kind="note", client=client)
    ping = ledger_services.task_submit(
        workflow="ledger.ping", input={}, idempotency_key="admin-test:ping", requested_by=operator
    )
    memory_recall(query="how to reach Jonas?", client=client, task=ping, step="echo")
    _money_in(operator, client, issued)
    return SimpleNamespace(
        client=client,
        project=project,
        proposal=proposal,
        issued=issued,
        draft=draft,
        conversation=conversation,
    )


def _money_in(operator, client, issued):
    """A bank statement with one credit, the payment recorded from it (allocated to `issued`, the rest
    credit), the payer's account learned, and a CSV mapping."""
    statement, (entry,), _ = services.bank_statement_store(
        sha256="0" * 64,
        filename="november.csv",
        format="csv",
        account="",
        statement_ref="",
        by=operator,
        entries=[
            services.EntryData(
                fingerprint="1" * 64,
                entry_ref="line 2",
                booked_on=dt.date(2026, 11, 2),
                amount=issued.total + 5,
                currency=issued.currency,
                counterparty="Berg Bakery AB",
                counterparty_iban="SE3550000000054910000003",
                remittance=issued.number,
                match_kind="overpaid",
                match={"invoices": [issued.number], "reasons": ["test"]},
            )
        ],
    )
    services.payment_record(
        client=client,
        amount=entry.amount,
        currency=entry.currency,
        received_on=entry.booked_on,
        by=operator,
        bank_entry=entry,
        payer_name=entry.counterparty,
        payer_iban=entry.counterparty_iban,
        allocations=[{"invoice": issued, "amount": issued.total}],
    )
    BankCsvMapping.objects.create(name="Odd Bank", date_column="Tag", amount_column="Wert")


@pytest.mark.django_db
@pytest.mark.parametrize("model", CORE_MODELS, ids=CORE_MODEL_IDS)
def test_every_core_admin_page_renders_for_the_operator(operator_client, operator, records, model):
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = operator

    changelist = operator_client.get(url(model, "changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == model.objects.count() > 0

    add = operator_client.get(url(model, "add"))
    if model_admin.has_add_permission(request):
        assert add.status_code == 200
    else:
        # Only the workspace singleton (already configured here), the numbering counters, credit notes
        # (made by voiding an invoice), memory (captured from records, and recall provenance written by
        # tasks) and money in (written by approved ledger actions and the statement importer only).
        assert model._meta.model_name in {
            "workspace",
            "invoicesequence",
            "creditnote",
            "memoryitem",
            "memoryrecall",
            "payment",
            "paymentallocation",
            "payeraccount",
            "bankentry",
        }
        assert add.status_code == 403

    obj = model.objects.first()
    assert operator_client.get(url(model, "change", obj.pk)).status_code == 200
    if isinstance(model_admin, ServiceAdmin):
        assert operator_client.get(url(model, "history", obj.pk)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("model", CORE_MODELS, ids=CORE_MODEL_IDS)
def test_admin_pages_send_anonymous_visitors_to_the_login(client, model):
    for page in (url(model, "changelist"), url(model, "add")):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(f"/accounts/login/?next={page}")


@pytest.mark.django_db
def test_a_signed_in_user_without_staff_gets_no_admin(client, records):
    client.force_login(UserFactory())
    page = url(Client, "changelist")

    response = client.get(page, follow=True)
    assert response.redirect_chain == [(f"/admin/login/?next={page}", 302)]
    assert response.status_code == 403
    assert b"Berg Bakery" not in response.content

    posted = client.post(
        url(Client, "add"),
        {"name": "Sneaky Ltd", "kind": "person", "status": "lead", "default_currency": "EUR"},
    )
    assert posted.status_code == 302 and posted["Location"].startswith("/admin/login/")
    assert not Client.objects.filter(name="Sneaky Ltd").exists()


def make_contacts(operator, n):
    for _ in range(n):
        ContactFactory(by=operator)


def make_projects(operator, n):
    for _ in range(n):
        ProjectFactory(by=operator)


def make_deliverables(operator, n):
    for index in range(n):
        services.deliverable_create(project=ProjectFactory(by=operator), by=operator, title=f"Thing {index}")


def make_proposals(operator, n):
    for _ in range(n):
        project = ProjectFactory(by=operator)
        ProposalFactory(client=project.client, project=project, by=operator)


def make_invoices(operator, n):
    for _ in range(n):
        project = ProjectFactory(by=operator)
        InvoiceFactory(client=project.client, project=project, by=operator)


def make_invoice_lines(operator, n):
    invoice = InvoiceFactory(by=operator, lines=[])
    for index in range(n):
        services.invoice_line_save(
            line=InvoiceLine(invoice=invoice, description=f"Line {index}", quantity="1", unit_price="10"),
            by=operator,
        )


def make_messages(operator, n):
    for index in range(n):
        conversation = services.conversation_create(by=operator, client=ClientFactory(by=operator))
        services.message_record(
            conversation=conversation,
            by=operator,
            direction="inbound",
            message_id=f"{uuid.uuid4()}@example.com",
            from_email="someone@example.com",
            subject=f"Hello {index}",
            sent_at=timezone.now(),
        )


def make_conversations(operator, n):
    for _ in range(n):
        project = ProjectFactory(by=operator)
        services.conversation_create(by=operator, client=project.client, project=project, subject="Hi")


def make_contracts(operator, n):
    for _ in range(n):
        project = ProjectFactory(by=operator)
        services.contract_create(client=project.client, by=operator, title="Agreement", project=project)


def make_decisions(operator, n):
    for _ in range(n):
        project = ProjectFactory(by=operator)
        services.decision_record(by=operator, title="Decided", client=project.client, project=project)


def make_pricing_rules(operator, n):
    for _ in range(n):
        PricingRuleFactory(by=operator)


# Pinned: the same count with 2 rows and with 7. Most are: session, user, two COUNTs (page and total),
# the workspace check of the sidebar, the rows, and the date hierarchy's range and dates; a currency
# filter adds the distinct currencies in use.
CHANGELIST_QUERIES = [
    (Client, make_projects, 9),  # each client with a project, so the project count column has work to do
    (Contact, make_contacts, 6),
    (Project, make_projects, 9),
    (Deliverable, make_deliverables, 8),
    (Proposal, make_proposals, 9),
    (Invoice, make_invoices, 10),  # + the distinct years of the number-year filter
    (InvoiceLine, make_invoice_lines, 6),
    (Conversation, make_conversations, 8),
    (Message, make_messages, 8),
    (Contract, make_contracts, 9),
    (Decision, make_decisions, 8),
    (PricingRule, make_pricing_rules, 7),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "make", "queries"),
    CHANGELIST_QUERIES,
    ids=[model._meta.model_name for model, _, _ in CHANGELIST_QUERIES],
)
def test_changelist_queries_do_not_grow_with_rows(
    operator_client, operator, workspace, django_assert_num_queries, model, make, queries
):
    page = url(model, "changelist")
    make(operator, 2)
    with django_assert_num_queries(queries):
        assert operator_client.get(page).context["cl"].result_count == 2

    make(operator, 5)
    with django_assert_num_queries(queries):
        response = operator_client.get(page)
    assert response.context["cl"].result_count == 7


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "changelist", "records", "here"),
    [
        ("admin:core_bankstatement_add", "admin:core_bankstatement_changelist", "Bank statements", "Import"),
        ("admin:core_memoryitem_search", "admin:core_memoryitem_changelist", "Memory items", "Search"),
        ("admin:ledger_policy_add", "admin:ledger_policy_changelist", "Policies", "Add policy"),
    ],
)
def test_our_own_admin_pages_lead_back_to_their_records(operator_client, page, changelist, records, here):
    html = operator_client.get(reverse(page)).content.decode()
    crumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', html, re.S).group(1)
    app = apps.get_app_config(changelist.split(":")[1].split("_")[0])
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', crumbs)
    assert links == [
        (reverse("admin:index"), "Home"),
        (reverse("admin:app_list", kwargs={"app_label": app.label}), app.verbose_name),
        (reverse(changelist), records),
    ]
    assert crumbs.rstrip().endswith(f"&rsaquo; {here}")
