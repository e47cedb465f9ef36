import datetime as dt

import pytest

from core import services
from tests.factories import ClientFactory


@pytest.fixture
def issue_day(frozen_clock):
    return dt.date(2026, 11, 16)


def issued(operator, client, lines, *, issue_date=dt.date(2026, 11, 16), **data):
    from core.invoicing import documents

    draft = services.invoice_create(client=client, by=operator, lines=lines, **data)
    return documents.invoice_issue_with_document(invoice=draft, by=operator, issue_date=issue_date)


@pytest.fixture
def danish_business(operator):
    return ClientFactory(
        by=operator,
        name="Havsbris Bageri ApS",
        billing_street="Strandvejen 12",
        billing_postcode="2100",
        billing_city="København Ø",
        country="DK",
        vat_id="DK 13 58 56 28",
    )
