"""Services: the catalogue's keys by keywords and synonyms, and a service recognised by its own words."""

import pytest

from agents.intake import ServiceInfo, intake_extract
from connectors.mime import parse_message
from tests.agents.intake.helpers import DEMO_SERVICES, extract, raw


@pytest.mark.parametrize(
    ("body", "services"),
    [
        ("We need a website and someone to write the texts.", ["website", "copywriting"]),
        ("We need a new website and copy for it.", ["website", "copywriting"]),
        ("We want a webshop for our tea.", ["ecommerce"]),
        ("We want to sell our prints online.", ["ecommerce"]),
        ("We are planning a rebrand.", ["brand_identity"]),
        ("We need a new visual identity, including the logo.", ["brand_identity"]),
        ("We need a logo for the brewery.", ["logo"]),
        ("We need a one-page site for the festival.", ["landing_page"]),
        ("We'd like an SEO audit of our existing shop.", ["seo_audit"]),
        ("We'd like a usability review of our booking app.", ["ux_audit"]),
        ("We need 12 custom icons.", ["illustration"]),
        ("We need someone to maintain our site every month.", ["maintenance"]),
        ("We already have a logo, but we need a website.", ["website"]),
        ("We need copy for 5 pages.", ["copywriting"]),
    ],
)
def test_services_by_keywords_and_synonyms(body, services):
    assert extract(body).services == services


def test_a_catalogue_service_is_recognised_by_its_own_words():
    services = [
        *DEMO_SERVICES,
        ServiceInfo(key="packaging", name="Packaging design", description="Boxes and labels."),
    ]
    mail = parse_message(raw("We need packaging for our new chocolate bars."))

    assert intake_extract(mail=mail, services=services).services == ["packaging"]
