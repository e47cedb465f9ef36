"""Tables of the agents app: the LLM gateway's answer cache (the calls themselves live in the ledger)."""

from __future__ import annotations

from django.db import models


class LLMCacheEntry(models.Model):
    """A validated model answer, keyed by sha256 of (model, messages, schema).

    Only answers that passed the schema are stored, so a hit never needs a repair. The key covers the
    model and the schema: changing either asks the model again.
    """

    key = models.CharField(max_length=64, unique=True)
    model = models.CharField(max_length=200)
    schema = models.CharField(max_length=200, help_text="Name of the output schema (for the operator).")
    response_text = models.TextField()
    tokens_in = models.PositiveIntegerField(default=0)
    tokens_out = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "LLM cache entry"
        verbose_name_plural = "LLM cache entries"

    def __str__(self) -> str:
        return f"{self.model} {self.key[:12]}"
