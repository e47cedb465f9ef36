"""Clients, contacts and projects through the JSON API: lists, reads, creates, updates, bad input."""

from decimal import Decimal

import pytest
from django.test import Client as HttpClient

from core import services
from core.models import Client, Contact, Project
from tests.factories import ClientFactory, ContactFactory, ProjectFactory


@pytest.fixture
def api(operator):
    """An HTTP client carrying the operator's API token."""
    _, raw = services.api_token_create(user=operator, name="tests")
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


def post(api, path, data):
    return api.post(path, data, content_type="application/json")


def patch(api, path, data):
    return api.patch(path, data, content_type="application/json")


def error_fields(response) -> dict:
    """{location after "payload": message} of a 422 answer."""
    assert response.status_code == 422, response.content
    return {".".join(map(str, error["loc"][2:])): error["msg"] for error in response.json()["detail"]}


# --- Clients -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_a_client(api, operator):
    response = post(
        api,
        "/api/v1/clients",
        {
            "name": "Berg Bakery AB",
            "email": " Billing@BergBakery.SE ",
            "default_currency": "sek",
            "status": "active",
        },
    )

    assert response.status_code == 201
    body = response.json()
    client = Client.objects.get()
    assert body["id"] == client.pk
    assert (body["name"], body["email"], body["default_currency"], body["status"], body["kind"]) == (
        "Berg Bakery AB",
        "billing@bergbakery.se",
        "SEK",
        "active",
        "organisation",
    )
    assert client.history.get().history_user == operator


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": "Berg", "email": "not an address"}, "email", "not a valid email address"),
        ({"name": "Berg", "default_currency": "EURO"}, "default_currency", "not an ISO 4217 currency code"),
        ({"email": "a@example.com"}, "name", "Field required"),
        ({"name": "   "}, "name", "A client needs a name."),
        ({"name": "Berg", "kind": "robot"}, "kind", "Input should be 'organisation' or 'person'"),
        ({"name": "Berg", "colour": "blue"}, "colour", "Extra inputs are not permitted"),
        ({"name": ["Berg"]}, "name", "Input should be a valid string"),
        ({"name": "Berg", "notes": None}, "notes", "Input should be a valid string"),
        ({"name": "Berg", "country": "Sweden"}, "country", "not an ISO 3166 two-letter country code"),
    ],
)
def test_bad_client_input_is_422_per_field_and_creates_nothing(api, payload, field, message):
    fields = error_fields(post(api, "/api/v1/clients", payload))

    assert field in fields
    assert message in fields[field]
    assert not Client.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["{not json", '{"name": "Berg",}', "", "\xff\xfe"])
def test_a_malformed_body_is_a_4xx_and_creates_nothing(api, body):
    response = api.post("/api/v1/clients", body, content_type="application/json")

    assert response.status_code in (400, 422)
    assert "detail" in response.json()
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_a_json_array_instead_of_an_object_is_422(api):
    response = post(api, "/api/v1/clients", [{"name": "Berg"}])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload"]
    assert not Client.objects.exists()


@pytest.mark.django_db
def test_a_nul_character_is_refused_with_422_not_a_server_error(api):
    response = post(api, "/api/v1/clients", {"name": "Berg\u0000Bakery"})
    assert response.status_code == 422
    assert not Client.objects.exists()
    assert api.get("/api/v1/clients?search=%00").status_code == 422


@pytest.mark.django_db
def test_read_a_client_and_unknown_ids_are_404(api, operator):
    client = ClientFactory(by=operator, name="Berg")

    assert api.get(f"/api/v1/clients/{client.pk}").json()["name"] == "Berg"
    missing = api.get(f"/api/v1/clients/{client.pk + 1000}")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    assert patch(api, f"/api/v1/clients/{client.pk + 1000}", {"name": "X"}).status_code == 404
    bad_id = api.get("/api/v1/clients/abc")
    assert bad_id.status_code == 422
    assert [error["loc"] for error in bad_id.json()["detail"]] == [["path", "client_id"]]
    assert api.get("/api/v1/clients/99999999999999999999999").status_code == 422
    assert patch(api, "/api/v1/clients/0", {"name": "X"}).json()["detail"][0]["loc"] == ["path", "client_id"]


@pytest.mark.django_db
def test_patch_changes_only_the_fields_sent(api, operator):
    client = ClientFactory(by=operator, name="Berg", email="old@berg.se", notes="Keep me")

    response = patch(api, f"/api/v1/clients/{client.pk}", {"email": "NEW@berg.se", "status": "past"})

    assert response.status_code == 200
    client.refresh_from_db()
    assert (client.name, client.email, client.status) == ("Berg", "new@berg.se", "past")
    assert client.notes == "Keep me"
    latest = client.history.first()
    assert (latest.history_type, latest.history_user) == ("~", operator)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"status": "gone"}, "status"),
        ({"id": 5}, "id"),
    ],
)
def test_a_bad_patch_is_422_and_changes_nothing(api, operator, payload, field):
    client = ClientFactory(by=operator, name="Berg", email="old@berg.se")
    history_rows = client.history.count()

    assert field in error_fields(patch(api, f"/api/v1/clients/{client.pk}", payload))

    client.refresh_from_db()
    assert (client.name, client.email, client.status) == ("Berg", "old@berg.se", "active")
    assert client.history.count() == history_rows


@pytest.mark.django_db
def test_client_list_is_paginated_and_filtered(api, operator):
    for name in ["Alder", "Birch", "Cedar", "Dogwood", "Elm"]:
        ClientFactory(by=operator, name=name, status="active")
    ClientFactory(by=operator, name="Fir Lead", status="lead", email="hello@fir.example")

    page = api.get("/api/v1/clients?limit=2&offset=2").json()
    assert page["count"] == 6
    assert [c["name"] for c in page["items"]] == ["Cedar", "Dogwood"]
    leads = api.get("/api/v1/clients?status=lead").json()
    assert [c["name"] for c in leads["items"]] == ["Fir Lead"]
    assert [c["name"] for c in api.get("/api/v1/clients?search=fir.EXAMPLE").json()["items"]] == ["Fir Lead"]
    assert api.get("/api/v1/clients?status=bogus").status_code == 422
    assert api.get("/api/v1/clients?limit=201").status_code == 422
    assert api.get("/api/v1/clients?limit=0").status_code == 422
    assert api.get("/api/v1/clients?offset=-1").status_code == 422
    assert len(api.get("/api/v1/clients?limit=200").json()["items"]) == 6


# --- Contacts ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_update_and_filter_contacts(api, operator):
    berg = ClientFactory(by=operator)
    other = ClientFactory(by=operator)
    ContactFactory(by=operator, client=other, email="someone@other.example")

    created = post(
        api,
        "/api/v1/contacts",
        {
            "client_id": berg.pk,
            "name": "Jonas Berg",
            "email": "Jonas@Berg.se",
            "is_primary": True,
        },
    )
    assert created.status_code == 201
    contact = Contact.objects.get(pk=created.json()["id"])
    assert (contact.client, contact.email, contact.is_primary) == (berg, "jonas@berg.se", True)

    updated = patch(api, f"/api/v1/contacts/{contact.pk}", {"role": "Owner"})
    assert updated.json()["role"] == "Owner"
    assert updated.json()["client_id"] == berg.pk

    by_client = api.get(f"/api/v1/contacts?client_id={berg.pk}").json()
    assert [c["email"] for c in by_client["items"]] == ["jonas@berg.se"]
    by_email = api.get("/api/v1/contacts?email=JONAS@berg.se").json()
    assert [c["id"] for c in by_email["items"]] == [contact.pk]
    assert api.get(f"/api/v1/contacts/{contact.pk}").json()["name"] == "Jonas Berg"


@pytest.mark.django_db
def test_bad_contacts_are_refused(api, operator):
    berg = ClientFactory(by=operator)
    existing = ContactFactory(by=operator, client=berg, email="jonas@berg.se")

    assert "client_id" in error_fields(
        post(api, "/api/v1/contacts", {"client_id": berg.pk + 1000, "name": "Nobody", "email": "n@x.se"})
    )
    assert (
        "already a contact"
        in error_fields(
            post(api, "/api/v1/contacts", {"client_id": berg.pk, "name": "Twin", "email": "JONAS@berg.se"})
        )["email"]
    )
    assert "email" in error_fields(post(api, "/api/v1/contacts", {"client_id": berg.pk, "name": "No mail"}))
    # A contact stays with its client.
    assert "client_id" in error_fields(patch(api, f"/api/v1/contacts/{existing.pk}", {"client_id": berg.pk}))
    assert list(Contact.objects.values_list("pk", flat=True)) == [existing.pk]


# --- Projects ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_create_update_and_filter_projects(api, operator):
    berg = ClientFactory(by=operator, default_currency="SEK")
    other = ClientFactory(by=operator)
    ProjectFactory(by=operator, client=other, status="active")

    created = post(
        api,
        "/api/v1/projects",
        {
            "client_id": berg.pk,
            "name": "Website",
            "budget": "45000.50",
            "start_date": "2026-03-01",
        },
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["budget"], body["currency"], body["status"]) == ("45000.50", "SEK", "proposed")
    project = Project.objects.get(pk=body["id"])
    assert project.budget == Decimal("45000.50")

    updated = patch(api, f"/api/v1/projects/{project.pk}", {"status": "active", "budget": None})
    assert (updated.json()["status"], updated.json()["budget"]) == ("active", None)

    mine = api.get(f"/api/v1/projects?client_id={berg.pk}&status=active").json()
    assert [p["id"] for p in mine["items"]] == [project.pk]
    none = api.get(f"/api/v1/projects?client_id={berg.pk}&status=completed").json()
    assert none == {"items": [], "count": 0}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Site", "budget": "-1"}, "budget"),
        ({"name": "Site", "budget": "1.234"}, "budget"),
        ({"name": "Site", "budget": "lots"}, "budget"),
        ({"name": "Site", "start_date": "2026-05-01", "due_date": "2026-04-01"}, "due_date"),
        ({"name": "Site", "start_date": "2026-02-30"}, "start_date"),
        ({"name": "Site", "currency": "EURO"}, "currency"),
    ],
)
def test_bad_projects_are_422_and_not_created(api, operator, payload, field):
    berg = ClientFactory(by=operator)
    assert field in error_fields(post(api, "/api/v1/projects", {"client_id": berg.pk, **payload}))
    assert not Project.objects.exists()


# --- Query counts --------------------------------------------------------------------------------


def _list_queries(api, path, django_assert_num_queries, expected):
    api.get(path)  # the first request records the token's use; later ones within a minute do not
    with django_assert_num_queries(expected):
        response = api.get(path)
    assert response.status_code == 200
    return response.json()["count"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/clients", "/api/v1/contacts", "/api/v1/projects"])
def test_list_queries_do_not_grow_with_rows(api, operator, django_assert_num_queries, path):
    # token + count + page
    def add_rows(n):
        for _ in range(n):
            ContactFactory(by=operator)
            ProjectFactory(by=operator)

    add_rows(3)
    first = _list_queries(api, path, django_assert_num_queries, 3)
    add_rows(3)
    second = _list_queries(api, path, django_assert_num_queries, 3)
    assert second == 2 * first
