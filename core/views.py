"""Pages of the core app: the operator's personal API tokens."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from core import clock, services
from core.http import staff_required
from core.models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Where the token will be used, e.g. “invoicing script”.")
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for a token that works until you revoke it.",
    )


# The API accepts staff users only, so a token of anyone else would be useless.
_staff_only = staff_required("API tokens are for staff users.")


@require_http_methods(["GET", "POST"])
@_staff_only
def api_tokens(request: HttpRequest) -> HttpResponse:
    """List the user's tokens and create one. A new token's secret is in this response only."""
    form = ApiTokenForm(request.POST or None)
    created = secret = None
    if form.is_valid():
        try:
            created, secret = services.api_token_create(user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            form = ApiTokenForm()
    response = render(
        request,
        "core/api_tokens.html",
        {
            "form": form,
            "tokens": request.user.api_tokens.all(),
            "created": created,
            "secret": secret,
            "now": clock.now(),
        },
    )
    # The secret must not linger in a cache or come back with the browser's back button.
    add_never_cache_headers(response)
    return response


@require_POST
@_staff_only
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    services.api_token_revoke(token=token)
    messages.success(request, f"The token “{token.name}” is revoked: requests using it are now refused.")
    return redirect("api_tokens")
