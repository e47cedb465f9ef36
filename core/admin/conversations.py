"""Conversations and their messages in the back office; a message is recorded, never edited."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from core import services
from core.admin.base import ReadOnlyServiceAdmin, ServiceAdmin, ServiceForm, count_of
from core.models import Conversation, Message


class AddressListField(forms.CharField):
    """Email addresses separated by commas, stored as a list of normalised addresses."""

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        try:
            return [services.email_normalise(part) for part in re.split(r"[,;\s]+", text) if part]
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class MessageForm(ServiceForm):
    to = AddressListField(required=False, help_text="Addresses separated by commas.")
    cc = AddressListField(required=False, help_text="Addresses separated by commas.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("channel") == "email" and not cleaned.get("message_id"):
            self.add_error("message_id", "An email message needs a Message-ID.")
        return cleaned


class MessageInline(admin.TabularInline):
    model = Message
    fields = ("sent_at", "direction", "from_email", "subject")
    readonly_fields = fields
    show_change_link = True
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Conversation)
class ConversationAdmin(ServiceAdmin):
    edit_fields = ("subject", "client", "project", "channel", "last_message_at")
    list_display = ("__str__", "client", "project", "channel", "message_count", "last_message_at")
    list_select_related = ("client", "project")
    list_filter = ("channel",)
    search_fields = ("subject", "client__name", "project__name")
    date_hierarchy = "last_message_at"
    autocomplete_fields = ("client", "project")
    inlines = (MessageInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(message_count=count_of(Message, "conversation"))

    @admin.display(description="Messages", ordering="message_count")
    def message_count(self, obj: Conversation) -> int:
        return obj.message_count

    def create(self, request, form):
        return services.conversation_create(by=request.user, **form.cleaned_data)

    def update(self, request, obj, changes):
        services.conversation_update(conversation=obj, by=request.user, **changes)


@admin.register(Message)
class MessageAdmin(ReadOnlyServiceAdmin):
    form = MessageForm
    create_fields = (
        "conversation",
        "direction",
        "channel",
        "message_id",
        "in_reply_to",
        "references",
        "from_email",
        "from_name",
        "to",
        "cc",
        "subject",
        "sent_at",
        "body_text",
        "body_html",
    )
    info_fields = ("attachments", "created_at")
    list_display = ("__str__", "conversation", "direction", "channel", "from_email", "sent_at")
    list_select_related = ("conversation",)
    list_filter = ("direction", "channel")
    search_fields = ("subject", "from_email", "from_name", "message_id")
    date_hierarchy = "sent_at"
    autocomplete_fields = ("conversation",)

    def create(self, request, form):
        message, created = services.message_record(by=request.user, **form.cleaned_data)
        if not created:
            raise ValidationError({"message_id": f"This Message-ID is already stored, as “{message}”."})
        return message
