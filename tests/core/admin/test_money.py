"""Money documents (and contracts) in the back office: proposals' actions, reverting and deleting
drafts only; invoices' draft lines, issued invoices frozen, deleting, reverting, and the actions."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core import services
from core.models import Client, Contract, Invoice, InvoiceLine, Proposal, ProposalLine
from tests.core.admin.pages import act, form_data, messages_of, url
from tests.factories import InvoiceFactory, ProposalFactory


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
def test_the_issue_action_numbers_drafts_and_reports_refusals(
    operator_client, operator, workspace, frozen_clock
):
    draft = InvoiceFactory(by=operator)
    empty = InvoiceFactory(by=operator, lines=[])

    response = act(operator_client, Invoice, "issue", [draft, empty])

    assert response.redirect_chain == [(url(Invoice, "changelist"), 302)]
    draft.refresh_from_db()
    empty.refresh_from_db()
    number = f"TS-{timezone.localdate(frozen_clock).year}-0001"
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
