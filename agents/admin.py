from django.contrib import admin

from agents.models import LLMCacheEntry


@admin.register(LLMCacheEntry)
class LLMCacheEntryAdmin(admin.ModelAdmin):
    """Cached model answers: readable, and deletable so the operator can make the model answer afresh."""

    list_display = ("created_at", "model", "schema", "tokens_in", "tokens_out", "short_key")
    list_filter = ("model", "schema")
    search_fields = ("key", "response_text")
    date_hierarchy = "created_at"
    readonly_fields = ("key", "model", "schema", "response_text", "tokens_in", "tokens_out", "created_at")

    @admin.display(description="Key")
    def short_key(self, entry: LLMCacheEntry) -> str:
        return entry.key[:12]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
