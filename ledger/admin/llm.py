"""LLM calls (read-only) and the price table per model, the one thing edited here, with its history."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.validators import MinValueValidator
from simple_history.admin import SimpleHistoryAdmin

from core import currencies
from ledger.admin.base import ReadOnlyAdmin, json_block
from ledger.models import LLMCall, ModelPrice


@admin.register(LLMCall)
class LLMCallAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "model",
        "tier",
        "agent",
        "outcome",
        "tokens_in",
        "tokens_out",
        "cost",
        "latency_ms",
        "cache_hit",
        "task_link",
    )
    list_filter = ("outcome", "tier", "cache_hit", "model")
    search_fields = ("model", "agent", "step", "prompt_hash")
    date_hierarchy = "created_at"
    fields = (
        "task_link",
        "step",
        "agent",
        "model",
        "tier",
        "outcome",
        "attempts",
        "tokens_in",
        "tokens_out",
        "cost",
        "latency_ms",
        "cache_hit",
        "prompt_hash",
        "error",
        "request_json",
        "response_text",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="Request")
    def request_json(self, call: LLMCall) -> str:
        return json_block(call.request)


class ModelPriceForm(forms.ModelForm):
    class Meta:
        model = ModelPrice
        fields = ("model", "input_per_million", "output_per_million", "currency", "notes")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        # Said per field, before the database's constraint would name itself instead.
        for name in ("input_per_million", "output_per_million"):
            self.fields[name].validators.append(MinValueValidator(0, "A price cannot be negative."))

    def clean_model(self) -> str:
        return self.cleaned_data["model"].strip()

    def clean_currency(self) -> str:
        code = self.cleaned_data["currency"].strip().upper()
        if not currencies.currency_is_valid(code):
            raise forms.ValidationError(f"{code!r} is not an ISO 4217 currency code.")
        return code


@admin.register(ModelPrice)
class ModelPriceAdmin(SimpleHistoryAdmin):
    """What one million tokens cost per model; the gateway prices every call from here."""

    form = ModelPriceForm
    list_display = ("model", "input_per_million", "output_per_million", "currency", "notes")
    search_fields = ("model", "notes")
