"""Reading and submitting admin pages as a browser would."""

from django import forms
from django.contrib.messages import get_messages
from django.urls import reverse


def url(model, view, *args):
    return reverse(f"admin:core_{model._meta.model_name}_{view}", args=args)


def form_data(response):
    """The POST data a browser would send back for the form (and inline formsets) the page shows."""
    context = response.context
    page_forms = [context["adminform"].form]
    for inline in context.get("inline_admin_formsets", []):
        page_forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in page_forms:
        for field in form:
            value = field.value()
            if isinstance(field.field, forms.BooleanField):
                if value:
                    data[field.html_name] = "on"
            else:
                data[field.html_name] = "" if value is None else value
    return data


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(operator_client, model, action, records, **extra):
    """Run an admin action and follow its redirect, so the page shows (and uses up) its messages."""
    return operator_client.post(
        url(model, "changelist"),
        {"action": action, "_selected_action": [r.pk for r in records], **extra},
        follow=True,
    )
