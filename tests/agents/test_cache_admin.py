import pytest
from django.urls import reverse

from agents.models import LLMCacheEntry


@pytest.mark.django_db
def test_cache_entries_can_be_read_and_deleted_but_not_forged(operator_client):
    entry = LLMCacheEntry.objects.create(key="a" * 64, model="m", schema="Summary", response_text='{"x": 1}')
    changelist = operator_client.get(reverse("admin:agents_llmcacheentry_changelist"))
    assert changelist.status_code == 200 and b"aaaaaaaaaaaa" in changelist.content
    assert operator_client.get(reverse("admin:agents_llmcacheentry_add")).status_code == 403
    forged = operator_client.post(
        reverse("admin:agents_llmcacheentry_change", args=[entry.pk]), {"response_text": "forged"}
    )
    assert forged.status_code == 403
    entry.refresh_from_db()
    assert entry.response_text == '{"x": 1}'
    deleted = operator_client.post(
        reverse("admin:agents_llmcacheentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert deleted.status_code == 302 and not LLMCacheEntry.objects.exists()
