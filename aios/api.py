"""The one NinjaAPI of the workspace, mounted at /api/v1/ (OpenAPI docs at /api/v1/docs).

Who may call it: active staff users, with a personal API token (`Authorization: Bearer aios_…`) or
with their signed-in browser session (unsafe methods then need the CSRF token, as any form does).
No or bad credentials → 401; a signed-in or token-holding user who is not staff → 403.

Errors keep ninja's shape, `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}` for bad input
(422) and `{"detail": "..."}` otherwise, so a client handles one format whichever layer refused.
"""

import logging

from django.contrib.auth.decorators import login_not_required, login_required
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer, SessionAuth

from aios.api_input import api_text_input_install
from connectors.api import router as connectors_router
from core import services
from core.api import router as core_router
from core.api_memory import router as memory_router
from ledger.api import router as ledger_router

logger = logging.getLogger(__name__)

# The docs pages are ordinary pages for a signed-in user; every other URL is an API operation.
_DOCS_URL_NAMES = {"openapi-json", "openapi-view", "api-root"}


def _staff_only(user):
    if not user.is_staff:
        raise AuthorizationError(message="The API is open to staff users only.")
    return user


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        api_token = services.api_token_authenticate(raw=token)
        if api_token is None:
            return None
        # Endpoints pass `by=request.user` to services, so history rows name the token's owner.
        request.user = _staff_only(api_token.user)
        return request.user


class StaffSessionAuth(SessionAuth):
    """The signed-in operator's browser. ninja checks the CSRF token before `authenticate`."""

    def __call__(self, request: HttpRequest):
        # Without a signed-in user there is no session to protect: answer 401, not a CSRF 403.
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None):
        return _staff_only(request.user)


class WorkspaceAPI(NinjaAPI):
    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        # LoginRequiredMiddleware would send API clients to the login page; the operations
        # authenticate themselves and answer 401 instead. The docs stay behind the sign-in.
        for pattern in patterns:
            if pattern.name not in _DOCS_URL_NAMES:
                login_not_required(pattern.callback)
        return patterns, app_name, namespace


api = WorkspaceAPI(
    title="AIOS Workspace API",
    version="1",
    description=(
        "Clients, contacts, projects, proposals and invoices of the workspace. Authenticate with "
        "`Authorization: Bearer <token>` (create tokens at /tokens/) or a signed-in staff session. "
        'Money and quantities are decimal strings, e.g. "1950.00".'
    ),
    urls_namespace="api-v1",
    auth=[ApiTokenAuth(), StaffSessionAuth()],
    docs_decorator=login_required,
)
# A NUL in API input is refused with 422 (the database would otherwise store it cleaned, as for mail).
api_text_input_install(api)
api.add_router("", core_router)
api.add_router("", ledger_router)
api.add_router("", memory_router)
# The inbound-mail webhook authenticates by signature: its operation sets auth=None.
api.add_router("", connectors_router)


def _error_location(field: str) -> list:
    """`lines.0.quantity` → ["body", "payload", "lines", 0, "quantity"], where ninja puts its own.

    Every endpoint names its JSON body `payload`, so service errors and ninja's point alike.
    """
    if field == NON_FIELD_ERRORS:
        return ["body"]
    return ["body", "payload", *(int(part) if part.isdigit() else part for part in field.split("."))]


@api.exception_handler(DjangoValidationError)
def service_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    errors = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    detail = [
        {"loc": _error_location(field), "msg": message, "type": error.code or "invalid"}
        for field, field_errors in errors.items()
        for error in field_errors
        for message in error
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(ObjectDoesNotExist)
def object_not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return api.create_response(request, {"detail": "Not Found"}, status=404)


@api.exception_handler(DataError)
def value_refused_by_database(request: HttpRequest, exc: DataError) -> HttpResponse:
    # The database is the last check of input (number ranges, NUL characters): still the client's error.
    logger.warning("API input refused by the database: %s", exc)
    detail = "A value is out of range or contains characters that cannot be stored."
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(IntegrityError)
def conflicting_change(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # Services check the invariants first, so a constraint fires only when two writes raced.
    logger.warning("API change refused by a database constraint: %s", exc)
    detail = "The change conflicts with another one made at the same time; try again."
    return api.create_response(request, {"detail": detail}, status=409)
