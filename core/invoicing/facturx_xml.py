"""The Factur-X / ZUGFeRD XML (UN/CEFACT Cross Industry Invoice) of a document at the EN 16931 profile:
what accounting software reads instead of the PDF's text. Element order follows the CII D16B schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lxml import etree

from core.invoicing.content import CREDIT_NOTE, DocumentContent

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
EN16931 = "urn:cen.eu:en16931:2017"
SEPA_CREDIT_TRANSFER = "58"
CREDIT_TRANSFER = "30"
# UN/ECE Recommendation 20 codes of the units the catalogue uses; anything else counts as pieces.
UNIT_CODES = {
    "hour": "HUR",
    "hours": "HUR",
    "h": "HUR",
    "day": "DAY",
    "days": "DAY",
    "month": "MON",
    "months": "MON",
    "week": "WEE",
    "weeks": "WEE",
}
SEPA_CURRENCY = "EUR"


def _el(parent: etree._Element, tag: str, text: object = None, **attrs: str) -> etree._Element:
    prefix, name = tag.split(":")
    element = etree.SubElement(parent, f"{{{NS[prefix]}}}{name}", attrs)
    if text is not None:
        element.text = str(text)
    return element


def _date(parent: etree._Element, tag: str, day: dt.date, *, qualified: bool = False) -> None:
    holder = _el(parent, tag)
    _el(
        holder,
        "qdt:DateTimeString" if qualified else "udt:DateTimeString",
        day.strftime("%Y%m%d"),
        format="102",
    )


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if text not in ("", "-0") else "0"


def _party(parent: etree._Element, tag: str, party: dict) -> None:
    element = _el(parent, tag)
    _el(element, "ram:Name", party["name"])
    address = _el(element, "ram:PostalTradeAddress")
    if party.get("postcode"):
        _el(address, "ram:PostcodeCode", party["postcode"])
    if party.get("street"):
        _el(address, "ram:LineOne", party["street"])
    if party.get("city"):
        _el(address, "ram:CityName", party["city"])
    _el(address, "ram:CountryID", party["country"])
    if party.get("email"):
        _el(_el(element, "ram:URIUniversalCommunication"), "ram:URIID", party["email"], schemeID="EM")
    if party.get("vat_id"):
        _el(_el(element, "ram:SpecifiedTaxRegistration"), "ram:ID", party["vat_id"], schemeID="VA")


def facturx_xml(content: DocumentContent) -> bytes:
    """The CII XML of the document (UTF-8 bytes with declaration)."""
    root = etree.Element(f"{{{NS['rsm']}}}CrossIndustryInvoice", nsmap=NS)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931)

    header = _el(root, "rsm:ExchangedDocument")
    _el(header, "ram:ID", content.number)
    _el(header, "ram:TypeCode", content.type_code)
    _date(header, "ram:IssueDateTime", content.issue_date)
    for text in (content.notes, *content.legal_notes, content.seller.get("late_payment_text", "")):
        if text:
            _el(_el(header, "ram:IncludedNote"), "ram:Content", text)

    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    categories = {(group.rate): group for group in content.groups}
    for index, line in enumerate(content.lines, start=1):
        group = categories[line.tax_rate]
        item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
        _el(_el(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", index)
        _el(_el(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
        agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
        _el(_el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", _number(line.unit_price))
        unit = UNIT_CODES.get((line.unit or "").strip().lower(), "C62")
        _el(
            _el(item, "ram:SpecifiedLineTradeDelivery"),
            "ram:BilledQuantity",
            _number(line.quantity),
            unitCode=unit,
        )
        settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:TypeCode", "VAT")
        _el(tax, "ram:CategoryCode", group.category)
        _el(tax, "ram:RateApplicablePercent", _number(line.tax_rate))
        summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        _el(summation, "ram:LineTotalAmount", _money(line.amount))

    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", content.seller)
    _party(agreement, "ram:BuyerTradeParty", content.buyer)

    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    event = _el(delivery, "ram:ActualDeliverySupplyChainEvent")
    _date(event, "ram:OccurrenceDateTime", content.supply_date)

    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:PaymentReference", content.preceding_number or content.number)
    _el(settlement, "ram:InvoiceCurrencyCode", content.currency)
    if content.seller.get("iban") and content.type_code != CREDIT_NOTE:
        means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        sepa = content.currency == SEPA_CURRENCY
        _el(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER if sepa else CREDIT_TRANSFER)
        _el(_el(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", content.seller["iban"])
        if content.seller.get("bic"):
            _el(
                _el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"),
                "ram:BICID",
                content.seller["bic"],
            )
    for group in content.groups:
        tax = _el(settlement, "ram:ApplicableTradeTax")
        _el(tax, "ram:CalculatedAmount", _money(group.amount))
        _el(tax, "ram:TypeCode", "VAT")
        if group.exemption_reason:
            _el(tax, "ram:ExemptionReason", group.exemption_reason)
        _el(tax, "ram:BasisAmount", _money(group.basis))
        _el(tax, "ram:CategoryCode", group.category)
        if group.exemption_code:
            _el(tax, "ram:ExemptionReasonCode", group.exemption_code)
        _el(tax, "ram:RateApplicablePercent", _number(group.rate))
    if content.due_date is not None or content.payment_terms:
        terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
        if content.payment_terms:
            _el(terms, "ram:Description", content.payment_terms)
        if content.due_date is not None:
            _date(terms, "ram:DueDateDateTime", content.due_date)
    totals = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(totals, "ram:LineTotalAmount", _money(content.subtotal))
    _el(totals, "ram:TaxBasisTotalAmount", _money(content.subtotal))
    _el(totals, "ram:TaxTotalAmount", _money(content.tax_total), currencyID=content.currency)
    _el(totals, "ram:GrandTotalAmount", _money(content.total))
    _el(totals, "ram:DuePayableAmount", _money(content.total))
    if content.preceding_number:
        referenced = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(referenced, "ram:IssuerAssignedID", content.preceding_number)
        _date(referenced, "ram:FormattedIssueDateTime", content.preceding_date, qualified=True)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
