"""Memory on the real embedded PostgreSQL with the real local embedding model (all-MiniLM-L6-v2)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from core import services
from core.memory import embeddings
from core.memory.services import (
    memory_forget,
    memory_item_add,
    memory_recall,
)
from core.memory.text import new_text, text_chunks, text_hash
from core.models import MemoryItem, MemoryRecall
from ledger import services as ledger_services
from ledger.memory_jobs import memory_maintenance_submit
from ledger.models import Task, TaskEvent
from tests.core.memory_set import recall_set_load
from tests.factories import ClientFactory, ProjectFactory

Tier, Kind = MemoryItem.Tier, MemoryItem.Kind


def run_task(task: Task) -> Task:
    assert ledger_services.task_execute(task_id=task.pk) == "succeeded"
    task.refresh_from_db()
    return task


# --- The labelled recall set -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("scan", ["exact", "hnsw"])
def test_the_recall_set_reaches_recall_at_5_and_never_leaks_another_clients_memory(operator, settings, scan):
    # Small subjects are scanned exactly; "hnsw" forces the index with iterative scans, as for a big one.
    settings.AIOS_MEMORY_EXACT_SCAN_MAX = 20000 if scan == "exact" else 0
    loaded = recall_set_load(by=operator)
    queries = loaded.data["queries"]
    assert len(loaded.items) >= 60 and len(queries) >= 20 and len(loaded.clients) >= 4
    scores, misses = [], []
    for query in queries:
        client = loaded.clients[query["client"]]
        found = memory_recall(query=query["query"], client=client, k=5)
        assert 1 <= len(found) <= 5, query["id"]
        # Scoping: every item returned belongs to the query's client, on every query of the set.
        assert {hit.item.client_id for hit in found} == {client.pk}, query["id"]
        keys = {loaded.ids[hit.item.pk] for hit in found}
        score = len(keys & set(query["relevant"])) / len(query["relevant"])
        scores.append(score)
        if score < 1:
            misses.append((query["id"], query["query"], sorted(keys)))
    recall_at_5 = sum(scores) / len(scores)
    print(f"{scan}: recall@5 = {recall_at_5:.3f} over {len(queries)} queries; misses: {misses}")
    assert recall_at_5 >= 0.9, misses


@pytest.mark.django_db
def test_precision_mode_keeps_only_close_matches_and_stays_scoped(operator):
    loaded = recall_set_load(by=operator)
    widths = []
    for query in loaded.data["queries"]:
        client = loaded.clients[query["client"]]
        found = memory_recall(query=query["query"], client=client, k=5, mode="precision")
        assert {hit.item.client_id for hit in found} <= {client.pk}
        # Precision drops what is far below the best match: never more than recall mode returns.
        assert all(hit.score >= 0.5 * found[0].score for hit in found)
        widths.append(len(found))
    assert sum(widths) < 5 * len(widths)


@pytest.mark.django_db
def test_project_scope_returns_only_that_projects_memory(operator):
    loaded = recall_set_load(by=operator)
    (client_key, project_name), project = next(iter(loaded.projects.items()))
    found = memory_recall(query="what was agreed about this project?", project=project, k=20)
    assert found and {hit.item.project_id for hit in found} == {project.pk}
    with pytest.raises(ValidationError):
        other = next(c for key, c in loaded.clients.items() if key != client_key)
        memory_recall(query="anything", client=other, project=project)


@pytest.mark.django_db
def test_an_unscoped_recall_searches_every_client(operator):
    recall_set_load(by=operator)
    found = memory_recall(query="when do invoices have to be paid?", k=10)
    assert len({hit.item.client_id for hit in found}) >= 3


# --- Adding: dedupe and near-duplicates -------------------------------------------------------


@pytest.mark.django_db
def test_the_same_text_for_the_same_subject_is_stored_once(operator):
    client, other = ClientFactory(), ClientFactory()
    first_note = services.note_create(by=operator, text="x", client=client)
    second_note = services.note_create(by=operator, text="y", client=client)
    item, outcome = memory_item_add(
        text="Pia prefers calls on Tuesday mornings.", kind=Kind.NOTE, client=client, source=first_note
    )
    again, outcome_again = memory_item_add(
        text="  pia prefers CALLS on Tuesday   mornings ", kind=Kind.NOTE, client=client, source=second_note
    )
    assert (outcome, outcome_again) == ("created", "duplicate")
    assert again.pk == item.pk
    assert MemoryItem.objects.filter(client=client).count() == 1
    item.refresh_from_db()
    assert item.mentions == 2
    assert item.also_from == [{"app": "core", "type": "note", "id": second_note.pk}]
    # Another subject is another memory.
    _, outcome_other = memory_item_add(
        text="Pia prefers calls on Tuesday mornings.", kind=Kind.NOTE, client=other
    )
    assert outcome_other == "created"
    assert MemoryItem.objects.count() == 2


@pytest.mark.django_db
def test_a_repeat_in_a_higher_tier_promotes_the_item(operator):
    client = ClientFactory()
    item, _ = memory_item_add(
        text="Office closes at 16:00 on Fridays.", kind=Kind.MESSAGE, tier=Tier.SESSION, client=client
    )
    assert item.expires_at is not None
    again, outcome = memory_item_add(
        text="Office closes at 16:00 on Fridays.", kind=Kind.NOTE, tier=Tier.CANONICAL, client=client
    )
    assert outcome == "duplicate"
    again.refresh_from_db()
    assert (again.pk, again.tier, again.expires_at) == (item.pk, Tier.CANONICAL, None)


@pytest.mark.django_db
def test_a_near_duplicate_is_linked_to_the_item_it_repeats_and_recalled_once(operator):
    client = ClientFactory()
    original, _ = memory_item_add(
        text="The launch of the new web shop moved to 15 March because the photos are late.",
        kind=Kind.MESSAGE,
        client=client,
    )
    near, outcome = memory_item_add(
        text="The launch of the new web shop was moved to 15 March because the photos are late.",
        kind=Kind.MESSAGE,
        client=client,
    )
    different, outcome_different = memory_item_add(
        text="Invoices go to accounts payable with the PO number.", kind=Kind.NOTE, client=client
    )
    assert (outcome, outcome_different) == ("near_duplicate", "created")
    assert near.superseded_by_id == original.pk
    original.refresh_from_db()
    assert original.mentions == 2
    found = memory_recall(query="when does the shop launch?", client=client, k=5)
    ids = [hit.item.pk for hit in found]
    assert original.pk in ids and near.pk not in ids


@pytest.mark.django_db
def test_texts_that_embed_alike_but_differ_in_numbers_are_both_kept(operator):
    client = ClientFactory()
    first, _ = memory_item_add(text="Invoice NW-2026-0003 was paid.", kind=Kind.NOTE, client=client)
    second, outcome = memory_item_add(text="Invoice NW-2026-0004 was paid.", kind=Kind.NOTE, client=client)
    assert outcome == "created" and second.superseded_by_id is None
    assert MemoryItem.objects.filter(superseded_by__isnull=True).count() == 2


@pytest.mark.django_db
def test_adding_refuses_bad_input_and_writes_nothing(operator):
    client, project_of_other = ClientFactory(), ProjectFactory()
    for kwargs in (
        {"text": "   ", "kind": Kind.NOTE},
        {"text": "x", "kind": "gossip"},
        {"text": "x", "kind": Kind.NOTE, "tier": "forever"},
        {"text": "x", "kind": Kind.NOTE, "importance": 1.5},
        {"text": "x", "kind": Kind.NOTE, "client": client, "project": project_of_other},
    ):
        with pytest.raises(ValidationError):
            memory_item_add(**kwargs)
    assert MemoryItem.objects.count() == 0


# --- Capture through ledger tasks ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_recorded_message_is_captured_by_a_ledger_task_with_provenance(
    operator, operator_client, django_capture_on_commit_callbacks
):
    client = ClientFactory()
    conversation = services.conversation_create(by=operator, client=client, subject="Shop launch")
    body = (
        "Hi Mara,\n\nWe would like to move the shop launch to 15 March: the product photos are late.\n\n"
        "Best, Pia\n\nOn Mon, 2 Mar 2026 at 10:00, Mara wrote:\n> The launch is planned for 1 March.\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        message, created = services.message_record(
            conversation=conversation,
            by=operator,
            direction="inbound",
            message_id="<launch-1@bergvik.example>",
            from_email="pia@bergvik.example",
            from_name="Pia Berg",
            subject="Shop launch",
            body_text=body,
        )
    assert created
    task = Task.objects.get(workflow="memory.capture")
    assert task.input == {"source": "core.message", "id": message.pk}
    assert MemoryItem.objects.count() == 0  # nothing is embedded in the request; the worker does it
    task = run_task(task)
    items = list(MemoryItem.objects.all())
    assert len(items) == 1
    item = items[0]
    assert (item.source, item.source_task_id, item.client_id, item.kind) == (
        message,
        task.pk,
        client.pk,
        "message",
    )
    assert item.text.startswith("Pia Berg wrote about Shop launch: ")
    assert "15 March" in item.text and "planned for 1 March" not in item.text  # quoted history left out
    assert item.embedding_model == embeddings.embedding_provider().name
    committed = task.actions.get()
    assert (committed.kind, committed.status, committed.result["created"]) == ("memory.store", "committed", 1)
    # The task page links to what it wrote; the admin lists exactly that.
    written = operator_client.get(f"/admin/core/memoryitem/?source_task={task.pk}")
    assert written.status_code == 200 and written.context["cl"].result_count == 1
    # The same message delivered again: no second task, no second item.
    with django_capture_on_commit_callbacks(execute=True):
        services.message_record(
            conversation=conversation, by=operator, message_id="<launch-1@bergvik.example>"
        )
    assert Task.objects.filter(workflow="memory.capture").count() == 1


@pytest.mark.django_db
def test_decisions_proposals_notes_and_files_are_captured(operator, django_capture_on_commit_callbacks):
    client = ClientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        decision = services.decision_record(
            by=operator, title="Use Shopify", rationale="The client's team knows it.", client=client
        )
        proposal = services.proposal_create(
            client=client,
            by=operator,
            title="Web shop",
            cover_letter="A shop for the coffee subscriptions.",
            lines=[{"description": "Shop build", "quantity": "1", "unit_price": "4800.00", "tax_rate": "0"}],
        )
        note = services.note_create(
            by=operator, text="Pia is on holiday in July.", client=client, pinned=True
        )
        artifact, _ = services.artifact_store(
            by=operator,
            content=b"brief",
            filename="brief.txt",
            client=client,
            extracted_text="The brief asks for a subscription shop with monthly beans.",
        )
    tasks = Task.objects.filter(workflow="memory.capture")
    assert {task.input["source"] for task in tasks} == {
        "core.decision",
        "core.proposal",
        "core.note",
        "core.artifact",
    }
    for task in tasks:
        run_task(task)
    by_source = {item.source: item for item in MemoryItem.objects.all()}
    assert by_source[decision].text == "Decided: Use Shopify. The client's team knows it."
    assert "Shop build" in by_source[proposal].text and "4800.00" in by_source[proposal].text
    assert (by_source[note].tier, by_source[note].kind, by_source[note].expires_at) == (
        "canonical",
        "note",
        None,
    )
    assert by_source[artifact].text.startswith("From the file brief.txt: ")


@pytest.mark.django_db
def test_a_changed_note_replaces_its_memory_and_a_deleted_note_takes_it_along(
    operator, django_capture_on_commit_callbacks
):
    client = ClientFactory()
    with django_capture_on_commit_callbacks(execute=True):
        note = services.note_create(by=operator, text="Deliveries go to the back door.", client=client)
    run_task(Task.objects.get(workflow="memory.capture"))
    with django_capture_on_commit_callbacks(execute=True):
        services.note_update(note=note, by=operator, text="Deliveries go to the loading dock on Storgatan.")
        services.note_update(note=note, by=operator)  # nothing changed: nothing queued
    second = Task.objects.filter(workflow="memory.capture").exclude(status="succeeded").get()
    run_task(second)
    assert list(MemoryItem.objects.values_list("text", flat=True)) == [
        "Deliveries go to the loading dock on Storgatan."
    ]
    assert second.actions.get().result["removed"] == 1
    services.note_delete(note=note, by=operator)
    assert MemoryItem.objects.count() == 0


# --- Recall inside a task: provenance and replay -------------------------------------------------


@pytest.mark.django_db
def test_recalls_made_in_a_task_are_recorded_and_shown_on_the_task_page(operator, operator_client):
    from tests.core.memory_agents import RECALL_WORKFLOW

    loaded = recall_set_load(by=operator)
    client = loaded.clients["bergvik"]
    task = ledger_services.task_submit(
        workflow=RECALL_WORKFLOW,
        input={"query": "when is the best time to phone the contact?", "client": client.pk},
        idempotency_key="test:recall-1",
        requested_by=operator,
    )
    task = run_task(task)
    recall = MemoryRecall.objects.get(task=task)
    assert recall.step == "look" and recall.client_id == client.pk
    assert recall.query == "when is the best time to phone the contact?"
    assert [r["item"] for r in recall.results] == task.output["steps"]["look"]["items"]
    assert set(recall.items.values_list("pk", flat=True)) == set(task.output["steps"]["look"]["items"])
    assert all(r["score"] > 0 and "similarity" in r for r in recall.results)
    event = task.events.get(kind=TaskEvent.Kind.MEMORY_READ)
    assert event.data["recall"] == recall.pk
    first = MemoryItem.objects.get(pk=recall.results[0]["item"])
    assert (first.recall_count, first.last_recalled_at is not None) == (1, True)
    page = operator_client.get(f"/tasks/{task.pk}/")
    assert page.status_code == 200
    assert "Memory used" in page.text and "when is the best time to phone the contact?" in page.text
    assert first.text[:60] in page.text
    # Replay answers from the recorded recall: same output, and no new recall is recorded.
    report = ledger_services.task_replay(task=task)
    assert report.matches
    assert MemoryRecall.objects.filter(task=task).count() == 1


@pytest.mark.django_db
def test_an_operator_search_changes_no_counter(operator):
    loaded = recall_set_load(by=operator)
    memory_recall(query="which fonts do we use?", client=loaded.clients["bergvik"])
    assert MemoryRecall.objects.count() == 0
    assert not MemoryItem.objects.filter(recall_count__gt=0).exists()


# --- Decay: compression, expiry, retention ------------------------------------------------------


@pytest.mark.django_db
def test_old_working_memory_is_compressed_into_a_summary_that_recall_then_returns(operator, settings):
    settings.AIOS_MEMORY_COMPRESS_AFTER_DAYS = 90
    settings.AIOS_MEMORY_COMPRESS_MIN_ITEMS = 4
    client, other = ClientFactory(), ClientFactory()
    long_ago = timezone.now() - timedelta(days=200)
    texts = [
        "The roastery wants the shop to sell monthly coffee subscriptions.",
        "Subscribers choose between 250 g and 500 g bags every month.",
        "Subscriptions renew automatically and can be paused for a month.",
        "Shipping for subscriptions is free inside Sweden.",
        "The photographer is booked for the roastery shoot on 4 April.",
    ]
    old = [
        memory_item_add(text=text, kind=Kind.MESSAGE, client=client, created_at=long_ago)[0] for text in texts
    ]
    fresh, _ = memory_item_add(text="The new logo uses a dark green.", kind=Kind.MESSAGE, client=client)
    pinned, _ = memory_item_add(
        text="Pia decides on design.", kind=Kind.NOTE, tier=Tier.CANONICAL, client=client, created_at=long_ago
    )
    few_others = [
        memory_item_add(text=text, kind=Kind.NOTE, client=other, created_at=long_ago)[0]
        for text in ("Their office is in Utrecht.", "They pay by bank transfer.", "Jan signs the contracts.")
    ]
    submitted = memory_maintenance_submit()
    assert len(submitted["compress"]) == 1  # the other client has too few old items to compress
    task = run_task(Task.objects.get(pk=submitted["compress"][0]))
    summary = MemoryItem.objects.get(kind=Kind.SUMMARY)
    assert summary.client_id == client.pk and summary.source_task_id == task.pk
    assert summary.text.startswith("Summary of 5 earlier memories")
    assert set(MemoryItem.objects.filter(superseded_by=summary).values_list("pk", flat=True)) == {
        o.pk for o in old
    }
    for untouched in (fresh, pinned, *few_others):
        untouched.refresh_from_db()
        assert untouched.superseded_by_id is None
    found = memory_recall(query="how do the coffee subscriptions work?", client=client, k=5)
    ids = [hit.item.pk for hit in found]
    assert summary.pk in ids
    assert not set(ids) & {o.pk for o in old}
    # A second run finds nothing left to compress.
    assert memory_maintenance_submit()["compress"] == []


@pytest.mark.django_db
def test_expiry_and_retention_delete_exactly_what_they_should(operator, settings):
    from ledger.models import Policy
    from ledger.policy import policy_save

    working = Policy.objects.get(name="Working memory: 2 years")
    policy_save(
        policy=working,
        by=operator,
        name="Working memory: 1 year",
        kind="retention",
        params={"tier": "working", "days": 365},
    )
    policy_save(
        by=operator,
        name="Messages: 30 days",
        kind="retention",
        params={"tier": "working", "kind": "message", "days": 30},
    )
    client = ClientFactory()
    now = timezone.now()

    def add(text, *, tier=Tier.WORKING, kind=Kind.NOTE, age_days=0, expires_at=None):
        return memory_item_add(
            text=text,
            kind=kind,
            tier=tier,
            client=client,
            created_at=now - timedelta(days=age_days),
            expires_at=expires_at,
        )[0]

    expired_session = add(
        "Draft reply in progress.", tier=Tier.SESSION, expires_at=now - timedelta(minutes=1)
    )
    live_session = add("Reply to be sent after lunch.", tier=Tier.SESSION)
    old_message = add("Message from last quarter.", kind=Kind.MESSAGE, age_days=40)
    young_message = add("Message from last week.", kind=Kind.MESSAGE, age_days=6)
    old_note = add("A note from two years ago.", age_days=400)
    young_note = add("A note from last month.", age_days=40)  # working=365 applies, not working.message
    canonical = add("Pinned fact from long ago.", tier=Tier.CANONICAL, age_days=4000)
    submitted = memory_maintenance_submit(now=now)
    task = run_task(Task.objects.get(pk=submitted["maintain"]))
    assert task.output["steps"]["sweep"]["expired"] == 1
    assert task.output["steps"]["sweep"]["retained"] == 2
    remaining = set(MemoryItem.objects.values_list("pk", flat=True))
    assert remaining == {live_session.pk, young_message.pk, young_note.pk, canonical.pk}
    assert not remaining & {expired_session.pk, old_message.pk, old_note.pk}
    results = {action.kind: action.result for action in task.actions.all()}
    assert results == {"memory.expire": {"deleted": 1}, "memory.retain": {"deleted": 2}}
    # The same hour again is the same task: nothing runs twice.
    assert memory_maintenance_submit(now=now)["maintain"] == submitted["maintain"]


@pytest.mark.django_db
def test_retention_rules_refuse_canonical_and_nonsense():
    from core.memory.services import retention_rules

    assert retention_rules("session=7, working.message=30") == {
        ("session", None): 7,
        ("working", "message"): 30,
    }
    for bad in ("canonical=10", "working=0", "working=ten", "forever=3", "working.gossip=3"):
        with pytest.raises(ValidationError):
            retention_rules(bad)


@pytest.mark.django_db
def test_forgetting_refuses_canonical_memory(operator):
    client = ClientFactory()
    working, _ = memory_item_add(text="A passing remark.", kind=Kind.MESSAGE, client=client)
    pinned, _ = memory_item_add(text="A pinned fact.", kind=Kind.NOTE, tier=Tier.CANONICAL, client=client)
    with pytest.raises(ValidationError):
        memory_forget(items=[working, pinned])
    assert MemoryItem.objects.count() == 2
    assert memory_forget(items=[working]) == 1
    assert list(MemoryItem.objects.values_list("pk", flat=True)) == [pinned.pk]


# --- Providers and re-embedding -------------------------------------------------------------------


@pytest.mark.django_db
def test_reembed_moves_memory_to_another_provider_and_dimension(operator, settings, openai_server):
    client = ClientFactory()
    local_item, _ = memory_item_add(
        text="Invoices go to ekonomi@bergvik.example.", kind=Kind.NOTE, client=client
    )
    other, _ = memory_item_add(text="The shoot is on 4 April in Malmö.", kind=Kind.NOTE, client=client)
    assert len(local_item.embedding) == 384
    settings.AIOS_EMBEDDING_PROVIDER = "openai"
    settings.AIOS_EMBEDDING_BASE_URL = openai_server.url
    settings.AIOS_EMBEDDING_MODEL = "hash-embed"
    settings.AIOS_EMBEDDING_DIM = openai_server.embedding_dimensions
    call_command("reembed")
    embedded = [r for r in openai_server.received if r.path.endswith("/embeddings")]
    assert len(embedded) == 1 and len(embedded[0].body["input"]) == 2  # one batch
    for item in (local_item, other):
        item.refresh_from_db()
        assert item.embedding_model == f"openai:hash-embed@{openai_server.embedding_dimensions}"
        assert len(item.embedding) == openai_server.embedding_dimensions
    found = memory_recall(query="where do invoices go?", client=client, k=1)
    assert [hit.item.pk for hit in found] == [local_item.pk]
    # Nothing stale: a second run embeds nothing.
    call_command("reembed")
    assert len([r for r in openai_server.received if r.path.endswith("/embeddings")]) == 1 + 1  # the query


@pytest.mark.django_db
def test_the_local_provider_embeds_in_batches_with_unit_vectors():
    vectors = embeddings.embed_texts(["first text", "second text", "a third one"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similar = embeddings.embed_texts(
        ["When can I call Pia?", "What time suits Pia for a phone call?", "Invoice total"]
    )
    assert similar[0] @ similar[1] > similar[0] @ similar[2]


# --- Text handling ---------------------------------------------------------------------------------


def test_normalised_hash_ignores_case_spacing_and_surrounding_punctuation():
    assert text_hash("Hello  World.") == text_hash("hello world") == text_hash(" HELLO\nworld! ")
    assert text_hash("hello world") != text_hash("hello, world")


def test_chunks_end_at_paragraph_or_sentence_boundaries_and_fit_the_model():
    paragraph = " ".join(f"Sentence number {n} says something specific about the project." for n in range(40))
    chunks = text_chunks(f"Short intro.\n\n{paragraph}\n\nSign-off.")
    assert all(len(chunk) <= 700 for chunk in chunks)
    assert len(chunks) >= 3
    assert all(chunk.endswith(".") for chunk in chunks)
    joined = " ".join(chunks)
    assert "Sentence number 39 says" in joined and joined.startswith("Short intro.")


def test_new_text_drops_quoted_history_and_signature():
    body = "Yes, Tuesday works.\n\n-- \nPia Berg\n\nOn Mon, Mara wrote:\n> Does Tuesday work?"
    assert new_text(body) == "Yes, Tuesday works."
    assert new_text("Thanks!\n> quoted line\nMore text") == "Thanks!\nMore text"


# --- Re-ranking: fresh and often-used first -------------------------------------------------------


@pytest.mark.django_db
def test_recall_favours_fresh_and_often_used_items_among_equally_relevant_ones(operator):
    client = ClientFactory()
    first, second = ProjectFactory(client=client), ProjectFactory(client=client)
    text = "Deliveries go to the loading dock behind the roastery."
    # The same text in two projects of one client: equally relevant, only age and use differ.
    old, _ = memory_item_add(
        text=text,
        kind=Kind.NOTE,
        client=client,
        project=first,
        created_at=timezone.now() - timedelta(days=400),
    )
    fresh, _ = memory_item_add(text=text, kind=Kind.NOTE, client=client, project=second)
    found = memory_recall(query="where do deliveries go?", client=client, k=2)
    assert [hit.item.pk for hit in found] == [fresh.pk, old.pk]
    # Recalled a month ago it is a little less fresh than the new one, but recalled often it overtakes it.
    month_ago = timezone.now() - timedelta(days=30)
    MemoryItem.objects.filter(pk=old.pk).update(last_recalled_at=month_ago)
    found = memory_recall(query="where do deliveries go?", client=client, k=2)
    assert [hit.item.pk for hit in found] == [fresh.pk, old.pk]
    MemoryItem.objects.filter(pk=old.pk).update(recall_count=40)
    found = memory_recall(query="where do deliveries go?", client=client, k=2)
    assert [hit.item.pk for hit in found] == [old.pk, fresh.pk]
