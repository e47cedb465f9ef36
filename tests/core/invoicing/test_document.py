"""The issued invoice as its recipient gets it: a PDF/A-3 whose text, embedded Factur-X XML (EN 16931)
and EPC QR code are read back with the tools a recipient's software uses."""

import datetime as dt
import io
import shutil
from decimal import Decimal
from pathlib import Path

import facturx
import pytest
from django.db import IntegrityError, transaction
from lxml import etree
from pypdf import PdfReader

from core import services
from core.invoicing import documents
from core.models import Invoice
from tests.core.invoicing.conftest import issued
from tests.core.invoicing.pdf_tools import first_page_png, pdf_text, qr_codes, xpath
from tests.factories import ClientFactory

ARTIFACTS = Path("var/test-artifacts/invoicing")
LINES = [
    {
        "description": "Brand identity: logo, colours, type",
        "quantity": "1",
        "unit": "package",
        "unit_price": "2400.00",
        "tax_rate": "25",
    },
    {
        "description": "Product photography retouching",
        "quantity": "12.5",
        "unit": "hour",
        "unit_price": "85.00",
        "tax_rate": "25",
    },
]


def keep(png: Path, name: str) -> None:
    """A copy of the rendered page for a person to look at (var/ is never committed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, ARTIFACTS / f"{name}.png")


@pytest.mark.django_db
def test_an_issued_invoice_reads_back_as_text_xml_and_qr(operator, workspace, frozen_clock, tmp_path):
    client = ClientFactory(by=operator, name="Bergvik Kafferosteri AB", vat_id="SE556677880801")
    invoice = issued(operator, client, LINES, supply_date=dt.date(2026, 11, 10))

    pdf, filename = documents.invoice_pdf(invoice=invoice, by=operator)

    assert filename == f"invoice-{invoice.number}.pdf"
    assert (invoice.subtotal, invoice.tax_total, invoice.total) == (
        Decimal("3462.50"),
        Decimal("865.63"),
        Decimal("4328.13"),
    )
    text = pdf_text(pdf, tmp_path)
    for expected in (
        invoice.number,
        "Test Studio AB",
        "Storgatan 1",
        "SE556677880801",
        "Bergvik Kafferosteri AB",
        "Kungsgatan 5",
        "16 November 2026",
        "10 November 2026",
        "16 December 2026",
        "Brand identity: logo, colours, type",
        "12.5",
        "85.00",
        "2,400.00",
        "3,462.50",
        "865.63",
        "4,328.13 EUR",
        "SE45 5000 0000 0583 9825 7466",
        "ESSESESS",
        "Interest on late payment",
    ):
        assert expected in text, expected
    assert "Reverse charge" not in text

    xml_name, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert xml_name == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931") is True
    tree = etree.fromstring(xml)
    assert (facturx.get_flavor(tree), facturx.get_level(tree)) == ("factur-x", "en16931")
    assert xpath(xml, "//rsm:ExchangedDocument/ram:ID") == [invoice.number]
    assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert xpath(xml, "//ram:GrandTotalAmount") == ["4328.13"]
    assert xpath(xml, "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == ["SE556677880801"]
    assert xpath(xml, "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID") == ["SE556677880801"]
    assert xpath(xml, "//ram:IBANID") == ["SE4550000000058398257466"]
    assert xpath(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == [
        "S"
    ]
    assert xpath(xml, "//ram:BilledQuantity/@unitCode") == ["C62", "HUR"]
    # The sums a receiving system checks (EN 16931 BR-CO-10, -13, -15).
    line_totals = sum(
        Decimal(v)
        for v in xpath(xml, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
    )
    assert line_totals == Decimal(
        xpath(xml, "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:LineTotalAmount")[0]
    )
    assert Decimal(xpath(xml, "//ram:TaxTotalAmount")[0]) + line_totals == Decimal("4328.13")

    # pypdf sees the same attachment, flagged as the document's data (PDF/A-3 associated file).
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments["factur-x.xml"] == [xml]
    xmp = reader.xmp_metadata.rdf_root.toxml()
    assert "pdfaid" in xmp and "fx:ConformanceLevel" in xmp and "EN 16931" in xmp

    png = first_page_png(pdf, tmp_path)
    keep(png, "invoice-domestic")
    [payload] = qr_codes(png)
    epc = payload.split("\n")
    assert epc[:2] == ["BCD", "002"] and epc[2] in {"1", "2"} and epc[3] == "SCT"
    assert epc[4] == "ESSESESS" and epc[5] == "Test Studio AB"
    assert epc[6] == "SE4550000000058398257466"
    assert epc[7] == "EUR4328.13"
    assert invoice.number in epc


ZERO_RATED = [
    {
        "description": "Landing page design",
        "quantity": "1",
        "unit": "page",
        "unit_price": "1800.00",
        "tax_rate": "0",
    }
]


@pytest.mark.django_db
def test_cross_border_eu_business_with_vat_ids_gets_the_reverse_charge(
    operator, workspace, frozen_clock, danish_business, tmp_path
):
    invoice = issued(operator, danish_business, ZERO_RATED)

    pdf, _ = documents.invoice_pdf(invoice=invoice, by=operator)

    text = pdf_text(pdf, tmp_path)
    assert "Reverse charge: VAT is due from the recipient" in text
    assert "DK13585628" in text and "SE556677880801" in text
    assert "1,800.00 EUR" in text
    _, xml = facturx.get_facturx_xml_from_pdf(pdf)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert xpath(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == [
        "AE"
    ]
    assert xpath(
        xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:ExemptionReasonCode"
    ) == ["VATEX-EU-AE"]
    assert xpath(xml, "//ram:TaxTotalAmount") == ["0.00"]
    keep(first_page_png(pdf, tmp_path), "invoice-reverse-charge")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("client_data", "lines", "category", "note"),
    [
        # Domestic, standard rate: VAT charged, no note.
        ({"country": "SE", "vat_id": "SE556677880801"}, LINES, "S", None),
        # Outside the EU: not a reverse charge but an export.
        (
            {"country": "NO", "vat_id": ""},
            ZERO_RATED,
            "G",
            "VAT not charged: services supplied to a customer outside the EU.",
        ),
        # Domestic at 0 %: exempt, never a reverse charge.
        ({"country": "SE", "vat_id": "SE556677880801"}, ZERO_RATED, "E", "VAT exempt."),
        # Another EU country but charged VAT (e.g. a consumer rate): no reverse charge.
        ({"country": "DK", "vat_id": "DK13585628"}, LINES, "S", None),
        # A private person in another EU country (no VAT ID) at 0 %.
        ({"country": "DK", "vat_id": "", "kind": "person"}, ZERO_RATED, "E", "VAT exempt."),
    ],
)
def test_no_reverse_charge_note_outside_cross_border_eu_business(
    operator, workspace, frozen_clock, tmp_path, client_data, lines, category, note
):
    client = ClientFactory(by=operator, **client_data)
    invoice = issued(operator, client, lines)

    pdf, _ = documents.invoice_pdf(invoice=invoice, by=operator)

    text = pdf_text(pdf, tmp_path)
    assert "Reverse charge" not in text
    _, xml = facturx.get_facturx_xml_from_pdf(pdf)
    assert xpath(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == [
        category
    ]
    assert "VATEX-EU-AE" not in xml.decode()
    if note:
        assert note in text


@pytest.mark.django_db
def test_no_qr_code_for_other_currencies(operator, workspace, frozen_clock, tmp_path):
    client = ClientFactory(by=operator, default_currency="SEK")
    invoice = issued(operator, client, LINES)

    pdf, _ = documents.invoice_pdf(invoice=invoice, by=operator)

    assert invoice.currency == "SEK"
    assert qr_codes(first_page_png(pdf, tmp_path)) == []
    assert "SE45 5000 0000 0583 9825 7466" in pdf_text(pdf, tmp_path)
    _, xml = facturx.get_facturx_xml_from_pdf(pdf)
    assert xpath(xml, "//ram:SpecifiedTradeSettlementPaymentMeans/ram:TypeCode") == ["30"]


@pytest.mark.django_db
def test_the_document_is_rendered_once_and_later_changes_do_not_alter_it(
    operator, workspace, frozen_clock, tmp_path
):
    client = ClientFactory(by=operator)
    invoice = issued(operator, client, LINES)
    artifact = Invoice.objects.get(pk=invoice.pk).document
    first, _ = documents.invoice_pdf(invoice=invoice, by=operator)

    services.workspace_configure(by=operator, iban="DE89370400440532013000", street="Nygatan 9")
    services.client_update(client=client, by=operator, name="Renamed AB", billing_street="Other street 1")
    again, _ = documents.invoice_pdf(invoice=Invoice.objects.get(pk=invoice.pk), by=operator)

    assert again == first
    assert Invoice.objects.get(pk=invoice.pk).document_id == artifact.pk
    text = pdf_text(again, tmp_path)
    assert "Storgatan 1" in text and "Nygatan 9" not in text and "Renamed AB" not in text
    # A re-render of the frozen parties gives the same document too: the parties are on the invoice.
    assert invoice.seller["iban"] == "SE4550000000058398257466"


@pytest.mark.django_db
def test_the_database_refuses_to_change_an_issued_invoices_parties_or_document(
    operator, workspace, frozen_clock
):
    invoice = issued(operator, ClientFactory(by=operator), LINES)
    other = issued(operator, ClientFactory(by=operator), LINES)

    for change in (
        {"seller": {**invoice.seller, "iban": "DE89370400440532013000"}},
        {"buyer": {}},
        {"supply_date": dt.date(2020, 1, 1)},
        {"document": other.document},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Invoice.objects.filter(pk=invoice.pk).update(**change)
    stored = Invoice.objects.get(pk=invoice.pk)
    assert (stored.seller, stored.document_id) == (invoice.seller, invoice.document_id)


@pytest.mark.django_db
def test_a_draft_is_previewed_marked_draft_and_never_stored(operator, workspace, frozen_clock, tmp_path):
    draft = services.invoice_create(client=ClientFactory(by=operator), by=operator, lines=LINES)

    pdf, filename = documents.invoice_pdf(invoice=draft, by=operator)

    assert filename == f"draft-invoice-{draft.pk}.pdf"
    assert "DRAFT" in pdf_text(pdf, tmp_path)
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.document_id) == ("draft", None, None)


@pytest.mark.django_db
def test_voiding_makes_a_credit_note_that_references_the_invoice(
    operator, workspace, frozen_clock, danish_business, tmp_path
):
    invoice = issued(operator, danish_business, ZERO_RATED)

    services.invoice_void(invoice=invoice, by=operator, reason="Wrong purchase order number.")

    note = invoice.credit_note
    assert note.number == f"TS-{note.issue_date.year}-C0001"
    pdf, filename = documents.credit_note_pdf(note=note, by=operator)
    assert filename == f"credit-note-{note.number}.pdf"
    text = pdf_text(pdf, tmp_path)
    assert "CREDIT NOTE" in text and note.number in text and invoice.number in text
    assert "Wrong purchase order number." in text and "1,800.00 EUR" in text
    _, xml = facturx.get_facturx_xml_from_pdf(pdf)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert xpath(xml, "//rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert xpath(xml, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [invoice.number]
    # Nothing to pay on a credit note: no payment QR code.
    png = first_page_png(pdf, tmp_path)
    keep(png, "credit-note")
    assert qr_codes(png) == []

    second = issued(operator, danish_business, ZERO_RATED)
    services.invoice_void(invoice=second, by=operator, reason="Duplicate.")
    assert second.credit_note.number == f"TS-{note.issue_date.year}-C0002"
