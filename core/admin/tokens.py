"""Personal API tokens in the back office: create one (its secret is shown once), list, revoke.

Only the token's SHA-256 is stored and it never appears here; a token cannot be edited, only
revoked and replaced.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from core import services
from core.models import ApiToken


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "expires_at"]

    def clean(self):
        # Checked with the service's own rules before the admin accepts the form, so a bad expiry
        # is a form error rather than a failure after "save".
        cleaned = super().clean()
        try:
            services.api_token_check(name=cleaned.get("name", ""), expires_at=cleaned.get("expires_at"))
        except ValidationError as exc:
            raise forms.ValidationError(exc.message_dict) from None
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = ApiTokenAddForm
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__email"]
    actions = ["revoke_selected"]

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> list[str]:
        if obj is None:
            return ApiTokenAddForm.Meta.fields
        return ["user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "user":
            # The API accepts active staff users only; a token for anyone else would be refused.
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True, is_staff=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        # An existing token is read-only; the list-level permission still allows revoking.
        return obj is None and super().has_change_permission(request)

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        # Only an added token gets here, as tokens cannot be changed; the service makes its secret.
        token, secret = services.api_token_create(user=obj.user, name=obj.name, expires_at=obj.expires_at)
        # The admin goes on to log and redirect with `obj`, so it takes on the created token's identity.
        obj.pk, obj.prefix, obj.created_at = token.pk, token.prefix, token.created_at
        messages.warning(request, f"Copy the new token now, it is not shown again: {secret}")

    @admin.action(description="Revoke selected tokens", permissions=["change"])
    def revoke_selected(self, request: HttpRequest, queryset) -> None:
        live = list(queryset.filter(revoked_at__isnull=True))
        for token in live:
            services.api_token_revoke(token=token)
        self.message_user(request, f"Revoked {len(live)} token(s).", messages.SUCCESS)
