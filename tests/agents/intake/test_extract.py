"""The extraction contract end to end: `manage.py intake_extract` on the ten sample mails
(tests/agents/data/intake/, copied from the shared fixtures) field by field, the fields of mail that is
not about work, the texts the fields are read from (new text, not quoted history), and the evidence."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agents.intake import CONTRACT_FIELDS, intake_extract
from connectors.mime import parse_message
from core.models import PricingRule
from tests.agents.intake.helpers import DEMO_SERVICES, EXPECTED, SAMPLES, extract, money, raw
from tests.factories import PricingRuleFactory


def command(path: Path, *args: str) -> tuple[dict, str]:
    out = io.StringIO()
    call_command("intake_extract", str(path), *args, stdout=out)
    return json.loads(out.getvalue()), out.getvalue()


# --- The ten samples through the command -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("expected", EXPECTED, ids=[entry["file"] for entry in EXPECTED])
def test_the_command_matches_the_samples_field_by_field(expected):
    assert not PricingRule.objects.exists()  # the demo catalogue answers

    output, _ = command(SAMPLES / expected["file"])

    assert list(output) == list(CONTRACT_FIELDS)
    for field in CONTRACT_FIELDS:
        assert output[field] == expected[field], field


@pytest.mark.django_db
def test_the_command_prints_unicode_and_no_evidence():
    output, text = command(SAMPLES / "10-rebrand-html.eml")

    assert '"company": "Petit Vélo"' in text
    assert "evidence" not in output


@pytest.mark.django_db
def test_the_command_reads_the_workspaces_pricing_rules(tmp_path):
    for key, name, description in [
        ("website", "Marketing website", "A multi-page website."),
        ("photography", "Product photography", "Studio photos of products for a shop or catalogue."),
    ]:
        PricingRuleFactory(service_key=key, name=name, description=description)
    PricingRuleFactory(service_key="copywriting", name="Copywriting", active=False)
    mail = tmp_path / "photos.eml"
    mail.write_bytes(
        raw("We are opening a new website and need product photography of 30 vases. Budget 3 000 EUR.")
    )

    output, _ = command(mail)
    sample, _ = command(SAMPLES / "01-new-website.eml")

    assert output["services"] == ["website", "photography"]
    assert sample["services"] == ["website"]  # copywriting is not an active rule of this workspace


@pytest.mark.django_db
def test_the_command_explains_what_it_cannot_read(tmp_path):
    broken = tmp_path / "broken.eml"
    broken.write_bytes(b"\x00\x01 not a mail")

    with pytest.raises(CommandError, match="the mail cannot be read: no parseable headers"):
        command(broken)
    with pytest.raises(CommandError, match="Cannot read"):
        command(tmp_path / "missing.eml")


# --- Mail that is not about work ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "subject", "intent"),
    [
        # A payment said to be made is its own intent now (issue 13): a payment notice, not billing.
        ("We paid invoice NW-2026-0051 today, 4 200 EUR by bank transfer.", "Payment", "payment_notice"),
        (
            "Please put our new PO number 4711 on the invoice for the website; the 5 000 EUR stay the same.",
            "PO",
            "billing",
        ),
        (
            "Could we move our call about the homepage and the logo to Thursday at 15:00? "
            "It's due by Friday.",
            "Call",
            "scheduling",
        ),
        (
            "This week: 10 logos that cost under €5,000, by 1 December. Unsubscribe here.",
            "Weekly picks",
            "other",
        ),
    ],
)
def test_billing_scheduling_and_other_mail_has_no_budget_services_or_deadline(body, subject, intent):
    fields = extract(body, subject=subject).contract()

    assert fields["intent"] == intent
    assert (fields["budget"], fields["services"], fields["deadline"]) == (None, [], None)


# --- New text only -----------------------------------------------------------------------------


def test_quoted_history_is_never_a_source():
    body = (
        "Sounds good, please go ahead!\n\nIngrid\n\n"
        "On Wed, 4 Nov 2026 at 16:00, Mara Lindqvist <mara@northwind.studio> wrote:\n"
        "> A new website with 6 pages would be 4,550 EUR, ready by 31 January.\n"
    )

    fields = extract(body, subject="Re: website")

    assert (fields.budget, fields.deadline) == (None, None)


def test_a_bare_forward_is_read_from_the_forwarded_mail():
    body = (
        "FYI\n\n---------- Forwarded message ---------\nFrom: Ola <ola@example.no>\n\n"
        "We need a new logo for our ski school, budget 15 000 NOK, ready by mid-December.\n"
    )

    fields = extract(body, subject="Fwd: logo").contract()

    assert fields["services"] == ["logo"]
    assert fields["budget"] == money("15000.00", "NOK")
    assert fields["deadline"] == "2026-12-15"


def test_a_forward_with_its_own_words_is_read_from_them_only():
    body = (
        "Mara, could you quote a landing page for this? Budget 2,000 EUR.\n\n"
        "---------- Forwarded message ---------\nFrom: Ola <ola@example.no>\n\n"
        "We also want a logo, budget 15 000 NOK.\n"
    )

    fields = extract(body, subject="Fwd: logo").contract()

    assert (fields["services"], fields["budget"]) == (["landing_page"], money("2000.00", "EUR"))


# --- Evidence ----------------------------------------------------------------------------------


def test_every_inferred_field_has_evidence_with_a_true_span():
    mail = parse_message((SAMPLES / "07-shop-sek.eml").read_bytes())

    fields = intake_extract(mail=mail, services=DEMO_SERVICES)

    assert {"intent", "sender_email", "sender_name", "company", "budget", "deadline", "services"} <= set(
        fields.evidence
    )
    texts = {"new_text": mail.new_text, "subject": mail.subject}
    for name, evidence in fields.evidence.items():
        assert 0 <= evidence.confidence <= 1, name
        if evidence.span is not None:
            start, end = evidence.span
            assert texts[evidence.origin][start:end] == evidence.source, name
    assert fields.evidence["budget"].source == "60 000 SEK"
    assert fields.evidence["deadline"].source == "1 March 2027"
    assert fields.evidence["company"].source == "Holm Ceramics"
