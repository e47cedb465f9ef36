"""Rows written with COPY (core.dbcopy) are what `bulk_create` would have written: model defaults for the
fields not given, timestamps, JSON, and text cleaned of what PostgreSQL refuses; conflicts are skipped only
where asked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from core.dbcopy import rows_copy, rows_insert_new
from core.dbtext import REPLACEMENT
from core.models import BankEntry, BankStatement

pytestmark = pytest.mark.django_db

FIELDS = ("statement_id", "position", "fingerprint", "booked_on", "amount", "currency", "remittance", "match")


def _row(statement, n, *, remittance="", match=None):
    return (
        statement.pk,
        n,
        f"fp-{n}",
        dt.date(2026, 11, 2),
        Decimal("12.50"),
        "EUR",
        remittance,
        match or {},
    )


@pytest.fixture
def statement():
    return BankStatement.objects.create(filename="s.xml", format="camt053", sha256="a" * 64)


def test_copied_rows_get_the_model_defaults_timestamps_json_and_clean_text(statement):
    match = {"kind": "exact", "invoices": ["NW-2026-0001"], "reasons": ["named \x00 here"], "note": "ü ✓"}

    assert rows_copy(
        model=BankEntry, fields=FIELDS, rows=[_row(statement, 1, remittance="a\x00b", match=match)]
    )

    entry = BankEntry.objects.get()
    assert (entry.amount, entry.booked_on, entry.remittance) == (
        Decimal("12.50"),
        dt.date(2026, 11, 2),
        "a\ufffdb",
    )
    assert entry.match == {**match, "reasons": [f"named {REPLACEMENT} here"]}
    assert (entry.status, entry.entry_ref, entry.counterparty) == (BankEntry.Status.OPEN, "", "")
    assert entry.created_at is not None and entry.created_at == entry.updated_at


def test_a_refused_row_refuses_the_whole_copy(statement):
    rows_copy(model=BankEntry, fields=FIELDS, rows=[_row(statement, 1)])

    with pytest.raises(IntegrityError), transaction.atomic():
        rows_copy(model=BankEntry, fields=FIELDS, rows=[_row(statement, 2), _row(statement, 1)])

    assert list(BankEntry.objects.values_list("fingerprint", flat=True)) == ["fp-1"]


def test_inserting_new_rows_skips_the_conflicting_ones_and_returns_those_inserted(statement):
    rows_copy(model=BankEntry, fields=FIELDS, rows=[_row(statement, 2)])

    inserted = rows_insert_new(
        model=BankEntry,
        fields=FIELDS,
        rows=[_row(statement, n) for n in (1, 2, 3)],
        returning=("fingerprint", "pk"),
    )

    assert sorted(fingerprint for fingerprint, _ in inserted) == ["fp-1", "fp-3"]
    assert dict(inserted) == dict(
        BankEntry.objects.filter(fingerprint__in=["fp-1", "fp-3"]).values_list("fingerprint", "pk")
    )
    assert BankEntry.objects.count() == 3
    # The staging table is dropped: a second batch in the same transaction works.
    assert rows_insert_new(model=BankEntry, fields=FIELDS, rows=[_row(statement, 4)], returning=("pk",))
