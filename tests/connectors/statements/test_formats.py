"""The readers on statements shaped as other banks write them (not the fixtures' bank)."""

import datetime as dt
from decimal import Decimal

import pytest

from connectors.statements import StatementError, statement_parse
from connectors.statements.entries import amount_parse
from core.models import BankCsvMapping

D = Decimal
pytestmark = pytest.mark.django_db


def parse(text: str | bytes, filename: str = "", known=()):
    content = text.encode() if isinstance(text, str) else text
    return statement_parse(content=content, filename=filename, known_names=set(known))


@pytest.mark.parametrize(
    ("text", "comma", "value"),
    [
        ("1.400,00", None, "1400.00"),
        ("1,400.00", None, "1400.00"),
        ("-89,00", None, "-89.00"),
        ("89,00-", None, "-89.00"),
        ("+45.50 EUR", None, "45.50"),
        ("EUR 1 234,5", None, "1234.50"),
        ("(12.00)", None, "-12.00"),
        ("1.400", True, "1400.00"),
        ("1,400", None, "1400.00"),
        ("1400", None, "1400.00"),
    ],
)
def test_amounts_in_either_decimal_convention(text, comma, value):
    assert amount_parse(text, decimal_comma=comma) == D(value)


@pytest.mark.parametrize("text", ["", "abc", "12x50", "1,2,3.4.5x"])
def test_what_is_not_an_amount_is_refused(text):
    with pytest.raises(ValueError):
        amount_parse(text)


def test_german_structured_mt940_details():
    text = (
        ":20:STARTUMS\n:25:10020030/1234567\n:28C:0\n:60F:C261101EUR0,00\n"
        ":61:2611031103CR1150,50N062NONREF\n"
        ":86:166?00GUTSCHRIFT?109075?20EREF+NOTPROVIDED?21SVWZ+Rechnung NW-2026-0\n"
        "042 vielen Dank?30COBADEFFXXX?31DE89370400440532013000?32Vogt und Partner Gmb?33H\n"
        ":62F:C261103EUR1150,50\n-\n"
    )
    entry = parse(text).entries[0]
    assert (entry.booked_on, entry.amount, entry.currency) == (dt.date(2026, 11, 3), D("1150.50"), "EUR")
    assert entry.counterparty == "Vogt und Partner GmbH"
    assert entry.counterparty_iban == "DE89370400440532013000"
    assert entry.remittance == "Rechnung NW-2026-0042 vielen Dank"


def test_swift_tagged_mt940_details():
    text = (
        ":20:940S261103\n:25:NL20INGB0001234567\n:28C:1\n:60F:C261102EUR0,00\n"
        ":61:2611031103C250,00NTRFEREF//00000001\n"
        ":86:/EREF/NOTPROVIDED/ORDP//NAME/Kim Family Dental/IBAN/GB33BUKB20201555555555/REMI/USTD//inv 42/\n"
        ":62F:C261103EUR250,00\n-\n"
    )
    entry = parse(text).entries[0]
    assert (entry.counterparty, entry.counterparty_iban, entry.remittance) == (
        "Kim Family Dental",
        "GB33BUKB20201555555555",
        "inv 42",
    )


CAMT_V8 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>
<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-11-30T18:00:00+01:00</CreDtTm></GrpHdr>
<Stmt><Id>S-11</Id><Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">300.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
<BookgDt><DtTm>2026-11-27T09:15:00+01:00</DtTm></BookgDt><AcctSvcrRef>B-77</AcctSvcrRef>
<NtryDtls>
<TxDtls><Amt Ccy="EUR">120.00</Amt><RltdPties><Dbtr><Pty><Nm>Lind Fastigheter AB</Nm></Pty></Dbtr>
<DbtrAcct><Id><IBAN>SE45 5000 0000 0583 9825 7466</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf><Strd><CdtrRefInf><Ref>RF18NW20260009</Ref></CdtrRefInf></Strd></RmtInf></TxDtls>
<TxDtls><Amt Ccy="EUR">180.00</Amt>
<RltdPties><Dbtr><Pty><Nm>Kestrel Logistics Ltd</Nm></Pty></Dbtr></RltdPties>
<RmtInf><Ustrd>Invoice 2026/10</Ustrd></RmtInf></TxDtls>
</NtryDtls></Ntry>
<Ntry><Amt Ccy="EUR">99.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts>
<BookgDt><Dt>2026-11-30</Dt></BookgDt></Ntry>
</Stmt></BkToCstmrStmt></Document>"""


def test_camt_later_version_batch_booking_split_and_pending_skipped():
    statement = parse(CAMT_V8, "s.xml")
    assert statement.account == "DE02120300000000202051" and statement.statement_ref == "S-11"
    assert [(e.entry_ref, e.amount, e.counterparty) for e in statement.entries] == [
        ("B-77/1", D("120.00"), "Lind Fastigheter AB"),
        ("B-77/2", D("180.00"), "Kestrel Logistics Ltd"),
    ]
    assert statement.entries[0].counterparty_iban == "SE4550000000058398257466"
    assert statement.entries[0].remittance == "RF18NW20260009"
    assert statement.entries[0].booked_on == dt.date(2026, 11, 27)


CAMT_TWO_REPORTS = """<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.02"><BkToCstmrAcctRpt><GrpHdr/>
<Rpt><Id>R-1</Id><Acct><Id><Othr><Id>4711</Id></Othr></Id><Ccy>sek</Ccy></Acct>
<Ntry><NtryRef>A</NtryRef><Amt>10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-02</Dt></BookgDt></Ntry>
<Ntry><NtryRef>B</NtryRef><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>
<ValDt><Dt>2026-11-03</Dt></ValDt></Ntry>
</Rpt>
<Rpt><Id>R-2</Id>
<Ntry><NtryRef>C</NtryRef><Amt>7.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-04</Dt></BookgDt></Ntry>
<Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>NOK</Ccy></Acct>
<Ntry><NtryRef>D</NtryRef><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-04</Dt></BookgDt></Ntry>
</Rpt></BkToCstmrAcctRpt></Document>"""


def test_camt_reports_each_give_their_account_currency_to_amounts_without_one():
    with pytest.raises(StatementError, match=r"BkToCstmrAcctRpt/Rpt\[2\]/Ntry\[2\]: no <Amt>"):
        parse(CAMT_TWO_REPORTS, "r.xml")

    statement = parse(CAMT_TWO_REPORTS.replace("<NtryRef>D</NtryRef>", "<NtryRef>D</NtryRef><Amt>1</Amt>"))
    assert (statement.account, statement.statement_ref) == ("4711", "R-1")
    assert [(e.entry_ref, e.amount, e.currency) for e in statement.entries] == [
        ("A", D("10.00"), "SEK"),
        ("B", D("-5.00"), "EUR"),
        ("C", D("7.50"), "NOK"),
        ("D", D("1.00"), "NOK"),
    ]


def test_camt_without_a_statement_report_or_notification_is_refused():
    with pytest.raises(StatementError, match="<Document>: no BkToCstmrStmt"):
        parse("<Document><pain.001/></Document>", "x.xml")
    with pytest.raises(StatementError, match="<Document>: no BkToCstmrStmt"):
        parse("<Document></Document>", "x.xml")
    with pytest.raises(StatementError, match="<BkToCstmrStmt>: no <Stmt>"):
        parse("<Document><BkToCstmrStmt><GrpHdr/></BkToCstmrStmt></Document>", "x.xml")


def test_german_csv_with_preamble_soll_haben_marker_and_windows_1252():
    text = (
        '"Kontonummer:";"DE02120300000000202051"\n"Zeitraum:";"01.11.2026 - 30.11.2026"\n\n'
        "Buchungsdatum;Wertstellung;Zahlungspflichtiger;IBAN;Verwendungszweck;Umsatz;Soll/Haben;Währung\n"
        "03.11.26;03.11.26;Müller Café GmbH;DE89370400440532013000;RG 2026-42;1.250,00;H;EUR\n"
        "04.11.26;04.11.26;Stadtwerke;DE02120300000000202051;Strom;89,90;S;EUR\n"
    )
    entries = parse(text.encode("cp1252"), "umsaetze.csv").entries
    assert [(e.booked_on, e.amount, e.counterparty, e.remittance) for e in entries] == [
        (dt.date(2026, 11, 3), D("1250.00"), "Müller Café GmbH", "RG 2026-42"),
        (dt.date(2026, 11, 4), D("-89.90"), "Stadtwerke", "Strom"),
    ]


def test_english_csv_with_paid_in_and_paid_out_columns_and_day_first_dates():
    text = (
        "Date,Type,Description,Paid out,Paid in,Balance\n"
        "13/11/2026,BGC,KESTREL LOGISTICS INV 10,,600.00,1600.00\n"
        "14/11/2026,DD,INSURANCE,25.00,,1575.00\n"
    )
    entries = parse(text, "statement.csv", known={"kestrel logistics"}).entries
    assert [(e.booked_on, e.amount) for e in entries] == [
        (dt.date(2026, 11, 13), D("600.00")),
        (dt.date(2026, 11, 14), D("-25.00")),
    ]
    # Only one text column: the payer's name is read from it, the rest is the remittance.
    assert (entries[0].counterparty, entries[0].remittance) == ("KESTREL LOGISTICS", "INV 10")


def test_a_csv_mapping_saved_for_a_bank_names_the_columns():
    BankCsvMapping.objects.create(
        name="Odd Bank",
        date_column="Tag",
        amount_column="Wert",
        counterparty_column="Wer",
        remittance_column="Warum",
        date_format="%Y%m%d",
        decimal_comma=True,
        default_currency="SEK",
    )
    entries = parse("Tag|Wert|Wer|Warum\n20261105|1 400,00|Berg Bakery AB|NW-2026-0001\n", "odd.csv").entries
    assert [(e.booked_on, e.amount, e.currency, e.counterparty) for e in entries] == [
        (dt.date(2026, 11, 5), D("1400.00"), "SEK", "Berg Bakery AB")
    ]


def test_ofx_1_sgml():
    text = (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
        "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20261130"
        "<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0"
        "<SEVERITY>INFO</STATUS><STMTRS><CURDEF>GBP<BANKACCTFROM><BANKID>601613<ACCTID>31926819"
        "<ACCTTYPE>CHECKING</BANKACCTFROM><BANKTRANLIST><DTSTART>20261101<DTEND>20261130"
        "<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20261112<TRNAMT>990.00<FITID>X1<NAME>GRANT AND FERN"
        "<MEMO>NW-2026-0007</STMTTRN></BANKTRANLIST><LEDGERBAL><BALAMT>990.00<DTASOF>20261130"
        "</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )
    entry = parse(text, "x.ofx").entries[0]
    assert (entry.entry_ref, entry.booked_on, entry.amount, entry.currency, entry.counterparty) == (
        "X1",
        dt.date(2026, 11, 12),
        D("990.00"),
        "GBP",
        "GRANT AND FERN",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("just,some\nwords,here\n", "no header row"),
        ("Date,Amount\n2026-11-02,12.00\n2026-13-45,1.00\n", "line 3: cannot read the date"),
        ("<Document><Foo/></Document>", "no BkToCstmrStmt"),
    ],
)
def test_unreadable_statements_say_where(content, message):
    with pytest.raises(StatementError, match=message):
        parse(content, "f")
