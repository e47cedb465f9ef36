from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from aios import views
from aios.api import api

# The admin signs in through allauth, so MFA and the login rate limits apply to it too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "AIOS Workspace"
admin.site.site_title = "AIOS Workspace"
admin.site.index_title = "Back office"

# allauth answers its rate limits with ROOT_URLCONF.handler429.
handler429 = views.too_many_requests

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on every site; without it each first page logs a 404.
    path("favicon.ico", login_not_required(RedirectView.as_view(url=static("aios/favicon.svg")))),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("tasks/", include("ledger.urls")),
    path("approvals/", include("ledger.approval_urls")),
    path("money/", include("ledger.money.urls")),
    path("", include("core.urls")),
]
