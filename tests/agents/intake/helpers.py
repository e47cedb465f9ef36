"""Shared by the intake tests: the sample mails, the demo catalogue, and mails written in the tests."""

import csv
import json
from pathlib import Path

from agents.intake import IntakeFields, ServiceInfo, intake_extract
from connectors.mime import parse_message

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "intake"
EXPECTED = json.loads((SAMPLES / "expected.json").read_text(encoding="utf-8"))
CATALOGUE_CSV = Path(__file__).resolve().parents[3] / "core" / "data" / "services.csv"
with CATALOGUE_CSV.open(encoding="utf-8", newline="") as _file:
    DEMO_SERVICES = [
        ServiceInfo(
            key=row["key"], name=row["name"], description=row["description"], currency=row["currency"]
        )
        for row in csv.DictReader(_file)
    ]

# The demo workspace's invoice prefix: the samples are written to it (NW-2026-0042).
DEMO_PREFIX = "NW"

# Thursday 5 November 2026, 10:00 in Stockholm: the reference for relative dates below.
DATE = "Thu, 05 Nov 2026 10:00:00 +0100"


def raw(
    body: str,
    *,
    subject: str = "Hello",
    sender: str = "Ingrid Dahl <ingrid@dahlandco.no>",
    date: str = DATE,
    headers: str = "",
    content_type: str = "text/plain",
) -> bytes:
    return (
        f"From: {sender}\r\nTo: mara@northwind.studio\r\nSubject: {subject}\r\nDate: {date}\r\n"
        f"Message-ID: <t@example.com>\r\n{headers}MIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    ).encode()


def extract(body: str, **kwargs) -> IntakeFields:
    return intake_extract(
        mail=parse_message(raw(body, **kwargs)), services=DEMO_SERVICES, invoice_prefix=DEMO_PREFIX
    )


def budget_of(body: str, **kwargs) -> dict | None:
    return extract(body, **kwargs).contract()["budget"]


def deadline_of(body: str, **kwargs) -> str | None:
    return extract(body, **kwargs).contract()["deadline"]


def money(amount: str, currency: str) -> dict:
    return {"amount": amount, "currency": currency}
