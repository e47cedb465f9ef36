"""factory_boy factories for the canonical records. They create through `core.services`, so test data
obeys the same rules (normalised emails, Decimal totals, history rows) as real data."""

from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from core import services
from core.models import Client, Contact, Invoice, PricingRule, Project, Proposal


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct horse battery staple")
    is_active = True


class OperatorFactory(UserFactory):
    username = "operator"
    email = "operator@example.com"
    is_staff = True
    is_superuser = True

    @factory.post_generation
    def allauth_email(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook signature
        if create:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"primary": True, "verified": True}
            )


class ServiceFactory(factory.Factory):
    """Base for factories whose model is created by a service function."""

    class Meta:
        abstract = True

    by = None


class ClientFactory(ServiceFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")
    status = Client.Status.ACTIVE
    email = factory.Sequence(lambda n: f"billing{n}@client.example")
    default_currency = "EUR"
    billing_street = "Kungsgatan 5"
    billing_postcode = "411 19"
    billing_city = "Göteborg"
    country = "SE"

    @classmethod
    def _create(cls, model_class, *, by=None, **kwargs):
        return services.client_create(by=by, **kwargs)


class ContactFactory(ServiceFactory):
    class Meta:
        model = Contact

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"person{n}@client.example")

    @classmethod
    def _create(cls, model_class, *, by=None, **kwargs):
        return services.contact_create(by=by, **kwargs)


class ProjectFactory(ServiceFactory):
    class Meta:
        model = Project

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Project {n}")
    status = Project.Status.ACTIVE
    budget = Decimal("5000.00")

    @classmethod
    def _create(cls, model_class, *, by=None, **kwargs):
        return services.project_create(by=by, **kwargs)


def default_lines() -> list[dict]:
    return [
        {"description": "Design", "quantity": "3", "unit": "page", "unit_price": "650.00"},
        {"description": "Copy", "quantity": "2.5", "unit": "page", "unit_price": "180.00", "tax_rate": "25"},
    ]


class ProposalFactory(ServiceFactory):
    class Meta:
        model = Proposal

    client = factory.SubFactory(ClientFactory)
    title = factory.Sequence(lambda n: f"Proposal {n}")
    lines = factory.LazyFunction(default_lines)

    @classmethod
    def _create(cls, model_class, *, by=None, **kwargs):
        return services.proposal_create(by=by, **kwargs)


class InvoiceFactory(ServiceFactory):
    class Meta:
        model = Invoice

    client = factory.SubFactory(ClientFactory)
    lines = factory.LazyFunction(default_lines)

    @classmethod
    def _create(cls, model_class, *, by=None, **kwargs):
        return services.invoice_create(by=by, **kwargs)


class PricingRuleFactory(ServiceFactory):
    class Meta:
        model = PricingRule

    service_key = factory.Sequence(lambda n: f"service_{n}")
    name = factory.Sequence(lambda n: f"Service {n}")
    unit = "page"
    unit_price = Decimal("100.00")
    currency = "EUR"

    @classmethod
    def _create(cls, model_class, *, by=None, service_key, **kwargs):
        return services.pricing_rule_upsert(by=by, service_key=service_key, **kwargs)[0]
