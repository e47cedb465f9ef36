"""What the operator looks at before an invoice leaves: its first page as an image and the key fields of
the Factur-X XML inside it — read back from the PDF itself, so the approval shows what the client's
accounting software will read, not what we meant to write. Selectors: they read, never store."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import facturx
import pypdfium2
from django.utils import timezone
from lxml import etree

from core import clock
from core.invoice_numbers import invoice_number_format
from core.invoicing.facturx_xml import NS
from core.models import Invoice, InvoiceSequence, Workspace

# Label and XPath (from the CII root) of the fields an operator checks before an invoice goes out.
_KEY_FIELDS: tuple[tuple[str, str], ...] = (
    ("Number", "rsm:ExchangedDocument/ram:ID"),
    ("Issue date", "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"),
    ("Seller", "//ram:SellerTradeParty/ram:Name"),
    ("Seller VAT ID", "//ram:SellerTradeParty/ram:SpecifiedTaxRegistration/ram:ID"),
    ("Buyer", "//ram:BuyerTradeParty/ram:Name"),
    ("Buyer VAT ID", "//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID"),
    ("Currency", "//ram:ApplicableHeaderTradeSettlement/ram:InvoiceCurrencyCode"),
    ("Net total", "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxBasisTotalAmount"),
    ("VAT total", "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:TaxTotalAmount"),
    ("Amount due", "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:DuePayableAmount"),
    ("Due date", "//ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString"),
    ("IBAN", "//ram:PayeePartyCreditorFinancialAccount/ram:IBANID"),
    ("Payment reference", "//ram:ApplicableHeaderTradeSettlement/ram:PaymentReference"),
    ("Profile", "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"),
)


@dataclass(frozen=True)
class XmlField:
    label: str
    value: str


def invoice_number_expected(*, invoice: Invoice) -> str:
    """The invoice's number; for a draft, the number issuing it today would give — unless another
    invoice is issued first (the sending step puts the real one in the email then)."""
    if invoice.number:
        return invoice.number
    year = timezone.localdate(clock.now()).year
    last = InvoiceSequence.objects.filter(year=year).values_list("last_number", flat=True).first() or 0
    prefix = Workspace.objects.filter(pk=1).values_list("invoice_prefix", flat=True).first() or ""
    return invoice_number_format(prefix=prefix, year=year, sequence=last + 1)


def invoice_due_date_expected(*, invoice: Invoice) -> dt.date | None:
    """The due date; for a draft without one, what issuing it today would set (the workspace's terms)."""
    if invoice.due_date is not None:
        return invoice.due_date
    terms = Workspace.objects.filter(pk=1).values_list("payment_terms_days", flat=True).first()
    if terms is None:
        return None
    return timezone.localdate(clock.now()) + dt.timedelta(days=terms)


def pdf_first_page_png(*, pdf: bytes, width: int = 900) -> bytes:
    """The first page rendered at `width` pixels (PDFium): what a phone shows in the approval."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        scale = width / page.get_width()
        image = page.render(scale=scale).to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
    finally:
        document.close()


def pdf_xml_fields(*, pdf: bytes) -> list[XmlField]:
    """The key fields of the Factur-X XML embedded in `pdf`; empty when it carries none."""
    _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    if not xml:
        return []
    root = etree.fromstring(xml, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    fields = []
    for label, path in _KEY_FIELDS:
        values = [" ".join(node.text.split()) for node in root.xpath(path, namespaces=NS) if node.text]
        if values:
            value = ", ".join(dict.fromkeys(values))
            if label.endswith("date") and len(value) == 8 and value.isdigit():  # CII format 102: YYYYMMDD
                value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
            fields.append(XmlField(label=label, value=value))
    return fields
