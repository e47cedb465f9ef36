from decimal import Decimal

import pytest

from tests.factories import InvoiceFactory


@pytest.mark.django_db
def test_invoice_totals_are_decimal_sums_of_lines(operator):
    invoice = InvoiceFactory(by=operator)
    # 3 x 650.00 = 1950.00 and 2.5 x 180.00 = 450.00 taxed at 25 % = 112.50
    assert invoice.subtotal == Decimal("2400.00")
    assert invoice.tax_total == Decimal("112.50")
    assert invoice.total == Decimal("2512.50")
    assert isinstance(invoice.total, Decimal)
