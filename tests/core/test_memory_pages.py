"""Memory search for the operator: the API endpoint and the admin search page, and who may use them."""

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from core import services
from core.memory.services import memory_item_add
from core.models import MemoryItem, MemoryRecall, Note
from ledger.models import Task
from tests.factories import ClientFactory, UserFactory


@pytest.fixture
def api(operator):
    _, raw = services.api_token_create(user=operator, name="tests")
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


@pytest.fixture
def memories(db):
    bergvik, vos = ClientFactory(name="Bergvik"), ClientFactory(name="Vos")
    items = {
        "bergvik_call": memory_item_add(
            text="Pia prefers calls on Tuesday mornings.", kind="note", client=bergvik
        )[0],
        "bergvik_pay": memory_item_add(
            text="Bergvik pays invoices within 30 days.", kind="note", client=bergvik
        )[0],
        "vos_call": memory_item_add(text="Jan wants calls on Thursday afternoons.", kind="note", client=vos)[
            0
        ],
    }
    return bergvik, vos, items


@pytest.mark.django_db
def test_the_api_searches_memory_scoped_to_a_client(api, memories):
    bergvik, vos, items = memories
    response = api.get(
        "/api/v1/memory/search", {"query": "when can I phone them?", "client_id": bergvik.pk, "k": 2}
    )
    assert response.status_code == 200
    hits = response.json()
    assert [hit["id"] for hit in hits][0] == items["bergvik_call"].pk
    assert {hit["client_id"] for hit in hits} == {bergvik.pk}
    assert hits[0]["text"] == "Pia prefers calls on Tuesday mornings." and hits[0]["score"] > 0
    # Searching is not recalling: no provenance row, no counter moves.
    assert MemoryRecall.objects.count() == 0
    assert not MemoryItem.objects.filter(recall_count__gt=0).exists()


@pytest.mark.django_db
def test_the_api_refuses_bad_searches_with_422_and_unknown_subjects(api, memories):
    assert api.get("/api/v1/memory/search", {"query": ""}).status_code == 422
    assert api.get("/api/v1/memory/search", {"query": "x", "k": 500}).status_code == 422
    assert api.get("/api/v1/memory/search", {"query": "x", "mode": "psychic"}).status_code == 422
    unknown = api.get("/api/v1/memory/search", {"query": "x", "client_id": 999999})
    assert unknown.status_code == 422 and "client_id" in unknown.text


@pytest.mark.django_db
def test_memory_search_needs_a_token_or_staff(client, memories):
    assert client.get("/api/v1/memory/search", {"query": "calls"}).status_code == 401
    client.force_login(UserFactory())
    refused = client.get("/api/v1/memory/search", {"query": "calls"})
    assert refused.status_code == 403 and "Pia" not in refused.text


@pytest.mark.django_db
def test_a_note_posted_through_the_api_is_queued_for_memory(
    api, operator, django_capture_on_commit_callbacks
):
    bergvik = ClientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/notes",
            {"text": "Pia is on holiday in July.", "client_id": bergvik.pk, "pinned": True},
            content_type="application/json",
        )
    assert response.status_code == 201
    note = Note.objects.get(pk=response.json()["id"])
    assert (note.client, note.pinned, note.created_by) == (bergvik, True, operator)
    task = Task.objects.get(workflow="memory.capture")
    assert task.input == {"source": "core.note", "id": note.pk}
    bad = api.post("/api/v1/notes", {"text": "   "}, content_type="application/json")
    assert bad.status_code == 422
    assert Note.objects.count() == 1


@pytest.mark.django_db
def test_the_admin_search_page_finds_and_scopes(operator_client, memories):
    bergvik, vos, items = memories
    page = operator_client.get(
        reverse("admin:core_memoryitem_search"),
        {
            "query": "when can I phone them?",
            "client": vos.pk,
            "tiers": ["working", "canonical"],
            "mode": "recall",
            "k": 5,
        },
    )
    assert page.status_code == 200
    found = [result.item.pk for result in page.context["results"]]
    assert found[0] == items["vos_call"].pk
    assert items["bergvik_call"].pk not in found
    assert "Jan wants calls on Thursday afternoons." in page.text
    assert "Search memory" in operator_client.get(reverse("admin:core_memoryitem_changelist")).text


@pytest.mark.django_db
def test_the_admin_search_page_is_staff_only(client, memories):
    url = reverse("admin:core_memoryitem_search")
    response = client.get(url, {"query": "calls"})
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(UserFactory())
    assert "Pia prefers" not in client.get(url, {"query": "calls"}, follow=True).text


@pytest.mark.django_db
def test_forgetting_from_the_admin_deletes_working_memory_only(operator_client, operator, memories):
    bergvik, _, items = memories
    pinned = memory_item_add(
        text="Pinned: Pia signs off designs.", kind="note", tier="canonical", client=bergvik
    )[0]
    changelist = reverse("admin:core_memoryitem_changelist")
    refused = operator_client.post(
        changelist,
        {"action": "forget_selected", "_selected_action": [items["bergvik_pay"].pk, pinned.pk]},
        follow=True,
    )
    assert "unpin or delete the note" in refused.text
    assert MemoryItem.objects.filter(pk__in=[items["bergvik_pay"].pk, pinned.pk]).count() == 2
    operator_client.post(
        changelist, {"action": "forget_selected", "_selected_action": [items["bergvik_pay"].pk]}
    )
    assert not MemoryItem.objects.filter(pk=items["bergvik_pay"].pk).exists()
