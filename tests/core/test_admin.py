"""The back office: every core model is reachable, writes go through services, refusals are form errors,
issued invoices stay frozen, history can be reverted where it is safe, and list pages cost a fixed
number of queries whatever the number of rows."""

import datetime as dt
import hashlib
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django import forms
from django.contrib import admin
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from core import services
from core.admin import ServiceAdmin
from core.memory.services import memory_item_add, memory_recall
from core.models import (
    ActionTemplate,
    Artifact,
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
    ProposalLine,
    Workspace,
)
from ledger import services as ledger_services
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


def url(model, view, *args):
    return reverse(f"admin:core_{model._meta.model_name}_{view}", args=args)


def form_data(response):
    """The POST data a browser would send back for the form (and inline formsets) the page shows."""
    context = response.context
    page_forms = [context["adminform"].form]
    for inline in context.get("inline_admin_formsets", []):
        page_forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in page_forms:
        for field in form:
            value = field.value()
            if isinstance(field.field, forms.BooleanField):
                if value:
                    data[field.html_name] = "on"
            else:
                data[field.html_name] = "" if value is None else value
    return data


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(operator_client, model, action, records, **extra):
    """Run an admin action and follow its redirect, so the page shows (and uses up) its messages."""
    return operator_client.post(
        url(model, "changelist"),
        {"action": action, "_selected_action": [r.pk for r in records], **extra},
        follow=True,
    )


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
    return SimpleNamespace(
        client=client,
        project=project,
        proposal=proposal,
        issued=issued,
        draft=draft,
        conversation=conversation,
    )


# --- Every page renders, and only for staff ---------------------------------------------------


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
        # Only the workspace singleton (already configured here), the numbering counters, and memory
        # (captured from records, and recall provenance written by tasks).
        assert model._meta.model_name in {"workspace", "invoicesequence", "memoryitem", "memoryrecall"}
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


# --- Query counts ----------------------------------------------------------------------------


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


# --- Writes go through the services ------------------------------------------------------------


@pytest.mark.django_db
def test_adding_a_client_stores_a_normalised_email_and_names_the_operator_in_history(
    operator_client, operator
):
    response = operator_client.post(
        url(Client, "add"),
        {
            "name": "Berg Bakery AB",
            "kind": "organisation",
            "status": "lead",
            "email": "  Billing@BergBakery.SE ",
            "website": "bergbakery.se",
            "default_currency": "SEK",
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "0",
            "contacts-0-name": "Jonas Berg",
            "contacts-0-email": "Jonas@BergBakery.SE",
            "contacts-0-is_primary": "on",
        },
    )

    assert response.status_code == 302
    client = Client.objects.get()
    assert client.email == "billing@bergbakery.se"
    assert client.website == "https://bergbakery.se"
    assert client.default_currency == "SEK"
    assert [(row.history_type, row.history_user) for row in client.history.all()] == [("+", operator)]
    contact = Contact.objects.get()
    assert (contact.client, contact.email, contact.is_primary) == (client, "jonas@bergbakery.se", True)
    assert contact.history.get().history_user == operator


@pytest.mark.django_db
def test_editing_a_client_writes_only_the_changed_fields(operator_client, operator):
    client = ClientFactory(by=operator, name="Old name")
    page = operator_client.get(url(Client, "change", client.pk))
    data = form_data(page)

    unchanged = operator_client.post(url(Client, "change", client.pk), data)
    assert unchanged.status_code == 302
    assert client.history.count() == 1

    data["name"] = "New name"
    assert operator_client.post(url(Client, "change", client.pk), data).status_code == 302
    client.refresh_from_db()
    assert client.name == "New name"
    latest = client.history.first()
    assert (latest.history_type, latest.history_user, latest.name) == ("~", operator, "New name")


@pytest.mark.django_db
def test_a_new_project_takes_its_clients_currency_unless_one_is_chosen(operator_client, operator):
    client = ClientFactory(by=operator, default_currency="SEK")
    base = {
        "client": client.pk,
        "status": "active",
        "currency": "",
        "deliverables-TOTAL_FORMS": "0",
        "deliverables-INITIAL_FORMS": "0",
    }

    assert operator_client.post(url(Project, "add"), {**base, "name": "Default"}).status_code == 302
    assert (
        operator_client.post(url(Project, "add"), {**base, "name": "Chosen", "currency": "USD"}).status_code
        == 302
    )

    assert dict(Project.objects.values_list("name", "currency")) == {"Default": "SEK", "Chosen": "USD"}


@pytest.mark.django_db
def test_a_refusal_by_a_service_is_shown_on_the_form_and_nothing_is_saved(operator_client, operator):
    client = ClientFactory(by=operator)
    other_clients_project = ProjectFactory(by=operator)

    response = operator_client.post(
        url(Proposal, "add"),
        {
            "client": client.pk,
            "title": "Website",
            "project": other_clients_project.pk,
            "currency": "",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-description": "Design",
            "lines-0-quantity": "2",
            "lines-0-unit_price": "100",
            "lines-0-position": "0",
            "lines-0-tax_rate": "0",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["project"] == ["The project belongs to another client."]
    assert not Proposal.objects.exists()
    assert not ProposalLine.objects.exists()


@pytest.mark.django_db
def test_bad_input_gets_form_errors_not_server_errors(operator_client, operator):
    client = ClientFactory(by=operator)

    dates = operator_client.post(
        url(Project, "add"),
        {
            "client": client.pk,
            "name": "Site",
            "status": "active",
            "currency": "",
            "start_date": "2026-05-01",
            "due_date": "2026-04-01",
            "deliverables-TOTAL_FORMS": "0",
            "deliverables-INITIAL_FORMS": "0",
        },
    )
    assert dates.status_code == 200
    assert dates.context["adminform"].form.errors["due_date"] == [
        "This date cannot be before the start date."
    ]

    invoice = InvoiceFactory(client=client, by=operator)
    page = form_data(operator_client.get(url(Invoice, "change", invoice.pk)))
    page["lines-0-tax_rate"] = "150"
    tax = operator_client.post(url(Invoice, "change", invoice.pk), page)
    assert tax.status_code == 200
    assert tax.context["inline_admin_formsets"][0].formset.errors[0]["tax_rate"] == [
        "Ensure this value is less than or equal to 100."
    ]

    assert operator_client.get("/admin/core/client/abc/history/").status_code == 404
    assert operator_client.get(f"/admin/core/client/{client.pk}/history/abc/").status_code == 404
    assert not Project.objects.exists()
    assert invoice.lines.filter(tax_rate=150).exists() is False


@pytest.mark.django_db
def test_a_new_message_is_recorded_once_per_message_id(operator_client, operator):
    conversation = services.conversation_create(by=operator, subject="Website")
    base = {
        "conversation": conversation.pk,
        "direction": "inbound",
        "channel": "email",
        "from_email": "Jonas@Berg.SE",
        "to": "me@studio.se, Other@Studio.se",
        "subject": "Hello",
        "sent_at_0": "2026-11-02",
        "sent_at_1": "10:00:00",
    }

    created = operator_client.post(url(Message, "add"), {**base, "message_id": "abc@berg.se"})
    assert created.status_code == 302
    message = Message.objects.get()
    assert (message.from_email, message.to) == ("jonas@berg.se", ["me@studio.se", "other@studio.se"])
    assert message.history.get().history_user == operator
    conversation.refresh_from_db()
    assert conversation.last_message_at == message.sent_at

    repeat = operator_client.post(url(Message, "add"), {**base, "message_id": "<abc@berg.se>"})
    assert repeat.status_code == 200
    assert "already stored" in repeat.context["adminform"].form.errors["message_id"][0]
    missing = operator_client.post(url(Message, "add"), {**base, "message_id": ""})
    assert missing.context["adminform"].form.errors["message_id"] == ["An email message needs a Message-ID."]
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_an_uploaded_file_is_stored_once_by_content(operator_client, operator, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    content = b"%PDF-1.4 brief"

    def upload():
        return operator_client.post(
            url(Artifact, "add"),
            {
                "file": SimpleUploadedFile("brief.pdf", content, content_type="application/pdf"),
                "extracted_text": "",
            },
        )

    assert upload().status_code == 302
    artifact = Artifact.objects.get()
    assert (artifact.sha256, artifact.size, artifact.mime_type) == (
        hashlib.sha256(content).hexdigest(),
        len(content),
        "application/pdf",
    )
    again = upload()
    assert again.status_code == 200
    assert "already stored" in again.context["adminform"].form.errors["file"][0]
    assert Artifact.objects.count() == 1


@pytest.mark.django_db
def test_the_workspace_is_configured_once_then_changed(operator_client, operator):
    response = operator_client.post(
        url(Workspace, "add"),
        {
            "name": "Studio",
            "operator_name": "Ann",
            "operator_email": "Ann@Studio.SE",
            "invoice_prefix": "ST",
            "default_currency": "EUR",
            "payment_terms_days": "14",
        },
    )

    assert response.status_code == 302
    workspace = Workspace.objects.get()
    assert (workspace.pk, workspace.operator_email) == (1, "ann@studio.se")
    assert workspace.history.get().history_user == operator
    assert operator_client.get(url(Workspace, "add")).status_code == 403


@pytest.mark.django_db
def test_admin_forms_offer_exactly_what_the_services_accept():
    accepted = {
        Workspace: services.WORKSPACE_FIELDS,
        Client: services.CLIENT_FIELDS,
        Contact: services.CONTACT_FIELDS,
        Project: services.PROJECT_FIELDS,
        Deliverable: services.DELIVERABLE_FIELDS,
        PricingRule: services.PRICING_FIELDS,
        Proposal: services.PROPOSAL_FIELDS,
        Invoice: services.INVOICE_DRAFT_FIELDS,
        Contract: services.CONTRACT_FIELDS,
        Conversation: services.CONVERSATION_FIELDS,
        ActionTemplate: services.TEMPLATE_FIELDS,
    }
    for model, fields in accepted.items():
        assert sorted(admin.site._registry[model].edit_fields) == sorted(fields), model


# --- Invoices: lines, freezing, deleting ------------------------------------------------------


@pytest.mark.django_db
def test_editing_lines_of_a_draft_invoice_recomputes_its_totals(operator_client, operator):
    invoice = InvoiceFactory(by=operator)
    assert invoice.total == Decimal("2512.50")
    data = form_data(operator_client.get(url(Invoice, "change", invoice.pk)))
    data["lines-0-quantity"] = "4"
    data["lines-1-DELETE"] = "on"
    data.update(
        {
            "lines-TOTAL_FORMS": "3",
            "lines-2-position": "3",
            "lines-2-description": "Hosting",
            "lines-2-quantity": "12",
            "lines-2-unit": "month",
            "lines-2-unit_price": "10.05",
            "lines-2-tax_rate": "25",
        }
    )

    response = operator_client.post(url(Invoice, "change", invoice.pk), data)

    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("2720.60"),
        Decimal("30.15"),
        Decimal("2750.75"),
    )
    assert list(invoice.lines.values_list("description", "amount")) == [
        ("Design", Decimal("2600.00")),
        ("Hosting", Decimal("120.60")),
    ]
    assert {row.history_user for row in InvoiceLine.history.all()[:3]} == {operator}


@pytest.mark.django_db
def test_an_issued_invoice_and_its_lines_are_read_only(operator_client, operator, workspace):
    draft = InvoiceFactory(by=operator)
    data = form_data(operator_client.get(url(Invoice, "change", draft.pk)))
    invoice = services.invoice_issue(invoice=draft, by=operator)
    lines_before = list(invoice.lines.values_list("pk", "quantity", "amount"))

    page = operator_client.get(url(Invoice, "change", invoice.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    inline = page.context["inline_admin_formsets"][0]
    assert (inline.has_add_permission, inline.has_change_permission, inline.has_delete_permission) == (
        False,
        False,
        False,
    )

    data["lines-0-quantity"] = "99"
    data["lines-1-DELETE"] = "on"
    data["notes"] = "forged"
    forged = operator_client.post(url(Invoice, "change", invoice.pk), data)

    assert forged.status_code == 403
    invoice.refresh_from_db()
    assert list(invoice.lines.values_list("pk", "quantity", "amount")) == lines_before
    assert (invoice.total, invoice.notes) == (Decimal("2512.50"), "")
    line = invoice.lines.first()
    assert operator_client.post(url(InvoiceLine, "change", line.pk), {"quantity": "99"}).status_code == 403
    assert operator_client.post(url(InvoiceLine, "delete", line.pk), {"post": "yes"}).status_code == 403
    assert invoice.lines.count() == 2


@pytest.mark.django_db
def test_only_draft_invoices_can_be_deleted(operator_client, operator, workspace):
    draft = InvoiceFactory(by=operator)
    issued = services.invoice_issue(invoice=InvoiceFactory(by=operator), by=operator)

    assert operator_client.post(url(Invoice, "delete", issued.pk), {"post": "yes"}).status_code == 403
    assert operator_client.post(url(Invoice, "delete", draft.pk), {"post": "yes"}).status_code == 302

    assert list(Invoice.objects.all()) == [issued]
    deleted = Invoice.history.filter(id=draft.pk).first()
    assert (deleted.history_type, deleted.history_user) == ("-", operator)
    assert operator_client.get(url(Client, "delete", issued.client_id)).status_code == 403


# --- History and revert ----------------------------------------------------------------------


@pytest.mark.django_db
def test_reverting_a_client_to_an_older_version_is_recorded_as_the_operators_change(
    operator_client, operator
):
    someone = UserFactory()
    client = services.client_create(by=someone, name="First name")
    services.client_update(client=client, by=someone, name="Second name")
    services.client_update(client=client, by=someone, name="Third name")
    oldest = client.history.order_by("history_id").first()
    revert_url = url(Client, "simple_history", client.pk, oldest.history_id)

    page = operator_client.get(revert_url)
    assert page.status_code == 200
    assert page.context["revert_disabled"] is False
    response = operator_client.post(revert_url, form_data(page))

    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "First name"
    latest = client.history.first()
    assert (latest.name, latest.history_type, latest.history_user) == ("First name", "~", operator)
    assert client.history.count() == 4


@pytest.mark.django_db
def test_an_issued_invoice_cannot_be_reverted(operator_client, operator, workspace):
    invoice = services.invoice_issue(invoice=InvoiceFactory(by=operator), by=operator)
    draft_version = invoice.history.order_by("history_id").first()
    assert draft_version.status == "draft"
    revert_url = url(Invoice, "simple_history", invoice.pk, draft_version.history_id)
    history_rows = invoice.history.count()

    assert operator_client.get(url(Invoice, "history", invoice.pk)).context["revert_disabled"] is True
    page = operator_client.get(revert_url)
    assert page.context["revert_disabled"] is True
    assert b'value="Revert"' not in page.content
    assert operator_client.post(revert_url, form_data(page)).status_code == 403

    line = invoice.lines.first()
    line_version = line.history.first()
    line_url = url(InvoiceLine, "simple_history", line.pk, line_version.history_id)
    assert operator_client.get(line_url).context["revert_disabled"] is True
    assert (
        operator_client.post(line_url, {"description": "x", "quantity": "1", "unit_price": "1"}).status_code
        == 403
    )

    invoice.refresh_from_db()
    assert (invoice.status, invoice.history.count()) == ("approved", history_rows)


@pytest.mark.django_db
def test_reverting_a_deleted_line_is_refused_on_the_form(operator_client, operator):
    invoice = InvoiceFactory(by=operator)
    line = invoice.lines.first()
    line_pk, version = line.pk, line.history.first()
    services.invoice_line_delete(line=line, by=operator)
    revert_url = url(InvoiceLine, "simple_history", line_pk, version.history_id)

    response = operator_client.post(revert_url, form_data(operator_client.get(revert_url)))

    assert response.status_code == 200
    assert "has been deleted" in response.context["errors"][0][0]
    assert invoice.lines.count() == 1


# --- Actions ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_issue_action_numbers_drafts_and_reports_refusals(operator_client, operator, workspace):
    draft = InvoiceFactory(by=operator)
    empty = InvoiceFactory(by=operator, lines=[])

    response = act(operator_client, Invoice, "issue", [draft, empty])

    assert response.redirect_chain == [(url(Invoice, "changelist"), 302)]
    draft.refresh_from_db()
    empty.refresh_from_db()
    number = f"TS-{timezone.localdate().year}-0001"
    assert (draft.status, draft.number) == ("approved", number)
    assert draft.history.first().history_user == operator
    assert (empty.status, empty.number) == ("draft", None)
    assert messages_of(response) == [
        f"{empty}: An invoice needs at least one line before it is issued.",
        f"Issued: {number}.",
    ]


@pytest.mark.django_db
def test_sent_and_paid_actions_move_an_issued_invoice_on(operator_client, operator, workspace):
    invoice = services.invoice_issue(invoice=InvoiceFactory(by=operator), by=operator)
    draft = InvoiceFactory(by=operator)

    act(operator_client, Invoice, "mark_sent", [invoice])
    invoice.refresh_from_db()
    assert invoice.status == "sent" and invoice.sent_at is not None
    response = act(operator_client, Invoice, "mark_paid", [invoice, draft])

    invoice.refresh_from_db()
    draft.refresh_from_db()
    assert invoice.status == "paid" and invoice.paid_at is not None
    assert (draft.status, draft.paid_at) == ("draft", None)
    assert f"{draft}: Issue the invoice before it can be sent, paid or voided." in messages_of(response)


@pytest.mark.django_db
def test_voiding_asks_for_a_reason_first(operator_client, operator, workspace):
    invoice = services.invoice_issue(invoice=InvoiceFactory(by=operator), by=operator)

    confirm = act(operator_client, Invoice, "void", [invoice])
    assert confirm.status_code == 200
    assert confirm.templates[0].name == "admin/reason_confirmation.html"
    assert invoice.number in confirm.content.decode()
    blank = act(operator_client, Invoice, "void", [invoice], confirm="yes", reason="   ")
    assert blank.status_code == 200
    assert blank.context["form"].errors["reason"] == ["This field is required."]
    invoice.refresh_from_db()
    assert invoice.status == "approved"

    done = act(operator_client, Invoice, "void", [invoice], confirm="yes", reason="Wrong client")

    assert messages_of(done) == [f"Voided: {invoice.number}."]
    invoice.refresh_from_db()
    assert (invoice.status, invoice.void_reason) == ("void", "Wrong client")
    assert invoice.history.first().history_user == operator


@pytest.mark.django_db
def test_a_void_invoice_is_reissued_as_a_new_draft_once(operator_client, operator, workspace):
    invoice = services.invoice_issue(invoice=InvoiceFactory(by=operator), by=operator)
    services.invoice_void(invoice=invoice, by=operator, reason="Wrong address")

    first = act(operator_client, Invoice, "reissue", [invoice])
    again = act(operator_client, Invoice, "reissue", [invoice])

    draft = Invoice.objects.get(replaces=invoice)
    assert (draft.status, draft.total, draft.client_id) == ("draft", invoice.total, invoice.client_id)
    assert list(draft.lines.values_list("description", "amount")) == list(
        invoice.lines.values_list("description", "amount")
    )
    assert messages_of(first) == [f"Re-issued: {invoice} as {draft}."]
    assert messages_of(again) == [f"{invoice}: Invoice {invoice.number} has already been re-issued."]
    assert Invoice.objects.count() == 2
    void_page = operator_client.get(url(Invoice, "change", invoice.pk)).content.decode()
    assert f'<a href="{url(Invoice, "change", draft.pk)}">{draft}</a>' in void_page


@pytest.mark.django_db
def test_proposal_actions_follow_the_allowed_transitions(operator_client, operator):
    proposal = ProposalFactory(by=operator)

    act(operator_client, Proposal, "proposal_to_sent", [proposal])
    refused = act(operator_client, Proposal, "proposal_to_draft", [proposal])

    proposal.refresh_from_db()
    assert proposal.status == "sent" and proposal.sent_at is not None
    assert messages_of(refused) == [f"{proposal}: A sent proposal cannot become draft."]
    assert proposal.history.first().history_user == operator
    assert operator_client.get(url(Proposal, "change", proposal.pk)).context["has_change_permission"] is False


@pytest.mark.django_db
def test_a_sent_proposal_cannot_be_reverted_to_its_draft(operator_client, operator):
    proposal = services.proposal_transition(proposal=ProposalFactory(by=operator), to="sent", by=operator)
    draft_version = proposal.history.order_by("history_id").first()
    revert_url = url(Proposal, "simple_history", proposal.pk, draft_version.history_id)

    page = operator_client.get(revert_url)
    assert page.context["revert_disabled"] is True
    assert operator_client.post(revert_url, form_data(page)).status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == "sent"


# --- Lists -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_money_is_listed_with_its_currency_and_right_aligned(operator_client, operator):
    InvoiceFactory(by=operator, client=ClientFactory(by=operator, default_currency="SEK"))

    page = operator_client.get(url(Invoice, "changelist")).content.decode()

    assert '<td class="field-money_total">2,512.50\u00a0SEK</td>' in page
    assert 'td[class*="field-money_"]' in page


@pytest.mark.django_db
def test_a_pricing_rule_is_added_and_changed_through_the_upsert(operator_client, operator):
    added = operator_client.post(
        url(PricingRule, "add"),
        {
            "service_key": "web_page",
            "name": "Web page",
            "unit": "page",
            "unit_price": "650.00",
            "currency": "EUR",
            "min_units": "1",
            "active": "on",
        },
    )
    assert added.status_code == 302
    rule = PricingRule.objects.get()

    data = form_data(operator_client.get(url(PricingRule, "change", rule.pk)))
    assert "service_key" not in data
    data["unit_price"] = "700.00"
    assert operator_client.post(url(PricingRule, "change", rule.pk), data).status_code == 302

    rule.refresh_from_db()
    assert (rule.service_key, rule.unit_price) == ("web_page", Decimal("700.00"))
    assert [(row.unit_price, row.history_user) for row in rule.history.all()] == [
        (Decimal("700.00"), operator),
        (Decimal("650.00"), operator),
    ]


# --- Deleting --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_client_without_business_history_can_be_deleted_with_its_contacts(operator_client, operator):
    lead = ClientFactory(by=operator, status="lead")
    contact = ContactFactory(client=lead, by=operator)

    confirm = operator_client.get(url(Client, "delete", lead.pk))
    assert confirm.status_code == 200 and not confirm.context["protected"]
    assert operator_client.post(url(Client, "delete", lead.pk), {"post": "yes"}).status_code == 302

    assert not Client.objects.filter(pk=lead.pk).exists()
    assert not Contact.objects.filter(pk=contact.pk).exists()
    gone = Contact.history.filter(id=contact.pk, history_type="-").get()
    assert gone.history_user == operator


@pytest.mark.django_db
def test_bulk_delete_refuses_the_whole_selection_when_one_record_has_history(operator_client, operator):
    lead = ClientFactory(by=operator, status="lead")
    customer = InvoiceFactory(by=operator).client

    response = operator_client.post(
        url(Client, "changelist"),
        {"action": "delete_selected", "_selected_action": [lead.pk, customer.pk], "post": "yes"},
    )

    assert response.status_code == 200
    assert any("Set its status to past instead" in str(item) for item in response.context["protected"])
    assert set(Client.objects.values_list("pk", flat=True)) == {lead.pk, customer.pk}


@pytest.mark.django_db
def test_only_draft_proposals_and_contracts_can_be_deleted(operator, operator_client):
    sent = services.proposal_transition(proposal=ProposalFactory(by=operator), to="sent", by=operator)
    draft = ProposalFactory(by=operator)
    with pytest.raises(ValidationError, match="only drafts"):
        services.proposal_delete_draft(proposal=sent, by=operator)
    assert operator_client.get(url(Proposal, "delete", sent.pk)).status_code == 403

    services.proposal_delete_draft(proposal=draft, by=operator)
    assert list(Proposal.objects.all()) == [sent]
    assert ProposalLine.objects.filter(proposal_id=draft.pk).count() == 0
    assert sent.lines.count() == 2

    signed = services.contract_create(client=sent.client, by=operator, title="MSA", status="signed")
    with pytest.raises(ValidationError):
        services.contract_delete_draft(contract=signed, by=operator)
    assert Contract.objects.filter(pk=signed.pk).exists()


@pytest.mark.django_db
def test_a_project_with_invoices_is_kept(operator):
    project = ProjectFactory(by=operator)
    services.deliverable_create(project=project, by=operator, title="Logo")
    services.invoice_create(client=project.client, project=project, by=operator)
    with pytest.raises(ValidationError, match="cancelled or completed"):
        services.project_delete(project=project, by=operator)
    assert project.deliverables.count() == 1
