from django.urls import path

from core import views

urlpatterns = [
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<int:token_id>/revoke", views.api_token_revoke, name="api_token_revoke"),
]
