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
    {"description": "Brand identity: logo, colours, type", "quantity": "1", "unit": "package",
     "unit_price": "2400.00", "tax_rate": "25"},
    {"description": "Product photography retouching", "quantity": "12.5", "unit": "hour",
     "unit_price": "85.00", "tax_rate": "25"},
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
        Decimal("3462.50"), Decimal("865.63"), Decimal("4328.13")
    )
    text = pdf_text(pdf, tmp_path)
    for expected in (
        invoice.number, "Test Studio AB", "Storgatan 1", "SE556677880801", "Bergvik Kafferosteri AB",
        "Kungsgatan 5", "16 November 2026", "10 November 2026", "16 December 2026",
        "Brand identity: logo, colours, type", "12.5", "85.00", "2,400.00", "3,462.50", "865.63",
        "4,328.13 EUR", "SE45 5000 0000 0583 9825 7466", "ESSESESS", "Interest on late payment",
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
    assert xpath(xml, "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode") == ["S"]
    assert xpath(xml, "//ram:BilledQuantity/@unitCode") == ["C62", "HUR"]
    # The sums a receiving system checks (EN 16931 BR-CO-10, -13, -15).
    line_totals = sum(Decimal(v) for v in xpath(xml, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"))
    assert line_totals == Decimal(xpath(xml, "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:LineTotalAmount")[0])
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
