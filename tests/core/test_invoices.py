"""Invoices: gap-free numbering under concurrency, Decimal totals, immutability once issued."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from core import services
from core.models import Invoice, InvoiceLine, InvoiceSequence
from tests.factories import ClientFactory, InvoiceFactory, ProjectFactory


def _issue_all_at_once(invoice_ids, operator, *, fail_one=False):
    """Issue each invoice in its own thread (own DB connection), all released by one barrier."""
    barrier = threading.Barrier(len(invoice_ids))
    errors = []

    def issue(invoice_id, must_fail):
        try:
            invoice = Invoice.objects.get(pk=invoice_id)
            barrier.wait(timeout=30)
            try:
                with transaction.atomic():
                    services.invoice_issue(invoice=invoice, by=operator, issue_date=dt.date(2026, 5, 4))
                    if must_fail:
                        raise RuntimeError("crash after taking a number")
            except RuntimeError:
                pass
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=issue, args=(invoice_id, fail_one and index == 0))
        for index, invoice_id in enumerate(invoice_ids)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.django_db(transaction=True)
def test_invoices_issued_at_the_same_moment_get_distinct_gap_free_numbers(operator, workspace):
    client = ClientFactory(by=operator)
    ids = [InvoiceFactory(client=client, by=operator).pk for _ in range(8)]

    errors = _issue_all_at_once(ids, operator)

    assert errors == []
    numbers = sorted(Invoice.objects.filter(pk__in=ids).values_list("number", flat=True))
    assert numbers == [f"TS-2026-{n:04d}" for n in range(1, 9)]
    assert InvoiceSequence.objects.get(year=2026).last_number == 8


@pytest.mark.django_db(transaction=True)
def test_an_issue_that_rolls_back_gives_its_number_back(operator, workspace):
    client = ClientFactory(by=operator)
    ids = [InvoiceFactory(client=client, by=operator).pk for _ in range(4)]

    errors = _issue_all_at_once(ids, operator, fail_one=True)

    assert errors == []
    assert Invoice.objects.get(pk=ids[0]).status == Invoice.Status.DRAFT
    assert Invoice.objects.get(pk=ids[0]).number is None
    numbers = sorted(Invoice.objects.exclude(number=None).values_list("number", flat=True))
    assert numbers == ["TS-2026-0001", "TS-2026-0002", "TS-2026-0003"]
    # The draft that failed takes the next number later: still no gap.
    services.invoice_issue(
        invoice=Invoice.objects.get(pk=ids[0]), by=operator, issue_date=dt.date(2026, 6, 1)
    )
    assert Invoice.objects.get(pk=ids[0]).number == "TS-2026-0004"


@pytest.mark.django_db
def test_numbering_starts_again_each_year(operator, workspace):
    first = InvoiceFactory(by=operator)
    second = InvoiceFactory(by=operator)
    services.invoice_issue(invoice=first, by=operator, issue_date=dt.date(2025, 12, 31))
    services.invoice_issue(invoice=second, by=operator, issue_date=dt.date(2026, 1, 1))
    assert (first.number, second.number) == ("TS-2025-0001", "TS-2026-0001")
    assert first.due_date == dt.date(2026, 1, 30)


@pytest.mark.django_db
def test_the_database_rejects_a_duplicate_number_in_a_year(operator, workspace):
    first, second = InvoiceFactory(by=operator), InvoiceFactory(by=operator)
    services.invoice_issue(invoice=first, by=operator, issue_date=dt.date(2026, 3, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=second.pk).update(
            status="approved",
            number="TS-2026-0001-copy",
            number_year=2026,
            number_sequence=1,
            issue_date=dt.date(2026, 3, 1),
            due_date=dt.date(2026, 3, 31),
        )
    assert Invoice.objects.get(pk=second.pk).status == Invoice.Status.DRAFT


@pytest.mark.django_db
def test_totals_are_decimal_sums_of_rounded_lines(operator):
    invoice = services.invoice_create(
        client=ClientFactory(by=operator),
        by=operator,
        lines=[
            # 1.5 x 0.35 = 0.525: rounded half up to 0.53 (banker's rounding would give 0.52)
            {"description": "Tiny", "quantity": "1.5", "unit_price": "0.35", "tax_rate": "25"},
            {"description": "Three thirds", "quantity": "0.333", "unit_price": "30.00"},
            {"description": "Float input", "quantity": 0.1, "unit_price": 0.2},
        ],
    )
    amounts = list(invoice.lines.values_list("amount", "tax_amount"))
    assert amounts == [
        (Decimal("0.53"), Decimal("0.13")),
        (Decimal("9.99"), Decimal("0.00")),
        (Decimal("0.02"), Decimal("0.00")),
    ]
    invoice.refresh_from_db()
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("10.54"),
        Decimal("0.13"),
        Decimal("10.67"),
    )
    assert all(isinstance(value, Decimal) for value in (invoice.subtotal, invoice.tax_total, invoice.total))


@pytest.mark.django_db
def test_line_changes_recompute_totals(operator):
    invoice = InvoiceFactory(by=operator)
    line = invoice.lines.get(description="Design")
    line.quantity = Decimal("4")
    services.invoice_line_save(line=line, by=operator)
    invoice.refresh_from_db()
    assert invoice.subtotal == Decimal("3050.00")
    services.invoice_line_delete(line=invoice.lines.get(description="Copy"), by=operator)
    invoice.refresh_from_db()
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("2600.00"),
        Decimal("0.00"),
        Decimal("2600.00"),
    )


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"description": "x", "quantity": "-1", "unit_price": "10"}, "lines.0.quantity"),
        ({"description": "x", "quantity": "1", "unit_price": "-10"}, "lines.0.unit_price"),
        ({"description": "x", "quantity": "1", "unit_price": "10", "tax_rate": "-5"}, "lines.0.tax_rate"),
        ({"description": "x", "quantity": "1", "unit_price": "10", "tax_rate": "101"}, "lines.0.tax_rate"),
        ({"description": "x", "quantity": "abc", "unit_price": "10"}, "lines.0.quantity"),
        ({"description": "x", "quantity": "NaN", "unit_price": "10"}, "lines.0.quantity"),
        ({"description": "", "quantity": "1", "unit_price": "10"}, "lines.0.description"),
        ({"description": "x", "quantity": "1e30", "unit_price": "10"}, "lines.0.quantity"),
        ({"description": "x", "quantity": "1", "unit_price": "0.001"}, "lines.0.unit_price"),
        ({"description": "x", "quantity": "0.0001", "unit_price": "10"}, "lines.0.quantity"),
    ],
)
@pytest.mark.django_db
def test_bad_lines_are_rejected_and_nothing_is_stored(operator, line, field):
    client = ClientFactory(by=operator)
    with pytest.raises(ValidationError) as caught:
        services.invoice_create(client=client, by=operator, lines=[line])
    assert field in caught.value.message_dict
    assert not Invoice.objects.exists()
    assert not InvoiceLine.objects.exists()


@pytest.mark.django_db
def test_the_database_itself_refuses_negative_or_inconsistent_amounts(operator):
    invoice = InvoiceFactory(by=operator)
    line = invoice.lines.first()
    for update in (
        {"quantity": Decimal("-1"), "amount": Decimal("-650.00")},
        {"amount": Decimal("1.00")},
        {"unit_price": Decimal("-650.00"), "amount": Decimal("-1950.00")},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            InvoiceLine.objects.filter(pk=line.pk).update(**update)
    line.refresh_from_db()
    assert (line.quantity, line.unit_price, line.amount) == (
        Decimal("3.000"),
        Decimal("650.00"),
        Decimal("1950.00"),
    )


@pytest.mark.parametrize("currency", ["EURO", "eu", "XYZ", "", "€"])
@pytest.mark.django_db
def test_bad_currencies_are_rejected(operator, currency):
    client = ClientFactory(by=operator)
    with pytest.raises(ValidationError) as caught:
        services.invoice_create(client=client, by=operator, currency=currency, lines=[])
    assert "currency" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.client_create(by=operator, name="Bad money", default_currency=currency)
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_currency_codes_are_normalised_and_checked_by_the_database(operator):
    invoice = services.invoice_create(client=ClientFactory(by=operator), by=operator, currency=" sek ")
    assert invoice.currency == "SEK"
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.filter(pk=invoice.pk).update(currency="ABC")
    invoice.refresh_from_db()
    assert invoice.currency == "SEK"


@pytest.mark.django_db
def test_an_issued_invoice_cannot_be_edited_through_services(operator, workspace):
    invoice = InvoiceFactory(by=operator)
    services.invoice_issue(invoice=invoice, by=operator)
    line = invoice.lines.get(description="Design")
    line.quantity = Decimal("10")

    with pytest.raises(ValidationError, match="Void it"):
        services.invoice_line_save(line=line, by=operator)
    with pytest.raises(ValidationError):
        services.invoice_line_delete(line=line, by=operator)
    with pytest.raises(ValidationError):
        services.invoice_update(invoice=invoice, by=operator, lines=[])
    with pytest.raises(ValidationError):
        services.invoice_update(invoice=invoice, by=operator, currency="USD")
    with pytest.raises(ValidationError):
        services.invoice_delete_draft(invoice=invoice, by=operator)

    invoice.refresh_from_db()
    assert invoice.total == Decimal("2512.50")
    assert invoice.currency == "EUR"
    assert sorted(invoice.lines.values_list("quantity", flat=True)) == [Decimal("2.500"), Decimal("3.000")]


@pytest.mark.django_db
def test_the_database_freezes_issued_invoices_whatever_the_code_path(operator, workspace):
    invoice = InvoiceFactory(by=operator)
    services.invoice_issue(invoice=invoice, by=operator, issue_date=dt.date(2026, 5, 4))
    line = invoice.lines.first()

    attempts = [
        lambda: InvoiceLine.objects.filter(pk=line.pk).update(description="changed"),
        lambda: InvoiceLine.objects.filter(pk=line.pk).delete(),
        lambda: InvoiceLine.objects.create(
            invoice=invoice, description="extra", quantity=1, unit_price=1, amount=Decimal("1.00")
        ),
        lambda: Invoice.objects.filter(pk=invoice.pk).update(
            total=Decimal("1.00"), subtotal=Decimal("1.00"), tax_total=Decimal("0.00")
        ),
        lambda: Invoice.objects.filter(pk=invoice.pk).update(number="TS-2026-9999"),
        lambda: Invoice.objects.filter(pk=invoice.pk).update(
            status="draft", number=None, number_year=None, number_sequence=None
        ),
        lambda: Invoice.objects.filter(pk=invoice.pk).delete(),
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError), transaction.atomic():
            attempt()

    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.total) == ("approved", "TS-2026-0001", Decimal("2512.50"))
    assert invoice.lines.count() == 2


@pytest.mark.django_db
def test_void_then_reissue_makes_a_corrected_draft(operator, workspace):
    invoice = InvoiceFactory(by=operator)
    services.invoice_issue(invoice=invoice, by=operator, issue_date=dt.date(2026, 5, 4))
    with pytest.raises(ValidationError):
        services.invoice_void(invoice=invoice, by=operator, reason="  ")
    services.invoice_void(invoice=invoice, by=operator, reason="Wrong VAT rate")
    assert (invoice.status, invoice.number) == ("void", "TS-2026-0001")

    draft = services.invoice_reissue(invoice=invoice, by=operator)
    assert draft.status == "draft" and draft.replaces_id == invoice.pk and draft.number is None
    assert draft.total == invoice.total
    line = draft.lines.get(description="Copy")
    line.tax_rate = Decimal("12")
    services.invoice_line_save(line=line, by=operator)
    services.invoice_issue(invoice=draft, by=operator, issue_date=dt.date(2026, 5, 4))
    assert draft.number == "TS-2026-0002"
    assert draft.total == Decimal("2454.00")
    with pytest.raises(ValidationError):
        services.invoice_reissue(invoice=invoice, by=operator)
    assert Invoice.objects.filter(replaces=invoice).count() == 1


@pytest.mark.django_db
def test_status_changes_follow_the_lifecycle(operator, workspace):
    invoice = InvoiceFactory(by=operator)
    with pytest.raises(ValidationError):
        services.invoice_mark_paid(invoice=invoice, by=operator)
    with pytest.raises(ValidationError):
        services.invoice_issue(
            invoice=services.invoice_create(client=invoice.client, by=operator), by=operator
        )
    services.invoice_issue(invoice=invoice, by=operator)
    services.invoice_mark_sent(invoice=invoice, by=operator)
    services.invoice_mark_overdue(invoice=invoice, by=operator)
    services.invoice_mark_paid(invoice=invoice, by=operator)
    assert invoice.status == "paid" and invoice.paid_at is not None
    with pytest.raises(ValidationError):
        services.invoice_void(invoice=invoice, by=operator, reason="refund")
    invoice.refresh_from_db()
    assert invoice.status == "paid"


@pytest.mark.django_db
def test_issuing_needs_a_workspace(operator):
    invoice = InvoiceFactory(by=operator)
    with pytest.raises(ValidationError, match="Set up the workspace"):
        services.invoice_issue(invoice=invoice, by=operator)
    invoice.refresh_from_db()
    assert invoice.number is None
    assert not InvoiceSequence.objects.exists()


@pytest.mark.django_db
def test_invoice_links_must_belong_to_the_same_client(operator):
    client, other = ClientFactory(by=operator), ClientFactory(by=operator)
    with pytest.raises(ValidationError) as caught:
        services.invoice_create(client=client, by=operator, project=ProjectFactory(client=other, by=operator))
    assert "project" in caught.value.message_dict
    assert not Invoice.objects.exists()


@pytest.mark.django_db
def test_history_rows_name_the_user_who_issued(operator, workspace):
    invoice = InvoiceFactory(by=operator)
    services.invoice_issue(invoice=invoice, by=operator, issue_date=dt.date(2026, 5, 4))
    latest = invoice.history.first()
    assert latest.status == "approved"
    assert latest.history_user == operator
    assert latest.number == "TS-2026-0001"
    assert invoice.lines.first().history.first().history_user == operator
