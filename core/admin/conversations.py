"""Conversations and what comes of them in the back office: messages, stored files and decisions. A
message, a file and a decision are recorded, never edited."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from core import clock, services
from core.admin.base import (
    CountColumn,
    ReadOnlyPermissions,
    ReadOnlyServiceAdmin,
    RecordServices,
    ServiceAdmin,
    ServiceForm,
    admin_link,
)
from core.models import Artifact, Conversation, Decision, Message


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


class MessageInline(ReadOnlyPermissions, admin.TabularInline):
    model = Message
    fields = ("sent_at", "direction", "from_email", "subject")
    show_change_link = True
    extra = 0


@admin.register(Conversation)
class ConversationAdmin(ServiceAdmin):
    edit_fields = ("subject", "client", "project", "channel", "last_message_at")
    record_services = RecordServices(
        record="conversation", create=services.conversation_create, update=services.conversation_update
    )
    list_display = (
        "__str__",
        "client",
        "project",
        "channel",
        CountColumn(Message, "conversation", description="Messages"),
        "last_message_at",
    )
    list_select_related = ("client", "project")
    list_filter = ("channel",)
    search_fields = ("subject", "client__name", "project__name")
    date_hierarchy = "last_message_at"
    autocomplete_fields = ("client", "project")
    inlines = (MessageInline,)


@admin.register(Message)
class MessageAdmin(ReadOnlyServiceAdmin):
    form = MessageForm
    create_fields = ("conversation", *services.MESSAGE_FIELDS)
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


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyServiceAdmin):
    create_fields = ("file", "client", "project", "extracted_text")
    info_fields = ("filename", "mime_type", "size", "sha256", "created_at")
    list_display = ("filename", "mime_type", "file_size", "client", "project", "created_at")
    list_select_related = ("client", "project")
    list_filter = ("mime_type",)
    search_fields = ("filename", "sha256")
    date_hierarchy = "created_at"
    autocomplete_fields = ("client", "project")

    @admin.display(description="Size", ordering="size")
    def file_size(self, obj: Artifact) -> str:
        return filesizeformat(obj.size)

    def create(self, request, form):
        upload = form.cleaned_data["file"]
        artifact, created = services.artifact_store(
            by=request.user,
            content=upload.read(),
            filename=upload.name,
            mime_type=upload.content_type or "application/octet-stream",
            client=form.cleaned_data["client"],
            project=form.cleaned_data["project"],
            extracted_text=form.cleaned_data["extracted_text"],
        )
        if not created:
            raise ValidationError({"file": f"This file is already stored, as “{artifact}”."})
        return artifact


@admin.register(Decision)
class DecisionAdmin(ReadOnlyServiceAdmin):
    create_fields = ("title", "rationale", "client", "project", "decided_at")
    info_fields = ("decided_by", "subject_link", "created_at")
    record_services = RecordServices(record="decision", create=services.decision_record)
    list_display = ("title", "client", "project", "decided_by", "decided_at")
    list_select_related = ("client", "project", "decided_by")
    search_fields = ("title", "rationale")
    date_hierarchy = "decided_at"
    autocomplete_fields = ("client", "project")

    @admin.display(description="About")
    def subject_link(self, obj: Decision) -> str | None:
        return admin_link(obj.subject)

    def get_changeform_initial_data(self, request):
        return {"decided_at": clock.now(), **super().get_changeform_initial_data(request)}
