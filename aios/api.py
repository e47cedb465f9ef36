"""The one NinjaAPI of the workspace, mounted at /api/v1/ (OpenAPI docs at /api/v1/docs).

Who may call it: active staff users, with a personal API token (`Authorization: Bearer aios_…`) or
with their signed-in browser session (unsafe methods then need the CSRF token, as any form does).
No or bad credentials → 401; a signed-in or token-holding user who is not staff → 403.

Errors keep ninja's shape, `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}` for bad input
(422) and `{"detail": "..."}` otherwise, so a client handles one format whichever layer refused.
"""

import logging
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import HttpRequest, HttpResponse, JsonResponse
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

_STAFF_ONLY = "The API is open to staff users only."


def _staff_only(user):
    if not user.is_staff:
        raise AuthorizationError(message=_STAFF_ONLY)
    return user


def staff_docs(view):
    """The OpenAPI schema and its docs page: for staff, signed in or holding a personal API token (so a
    client generator can fetch the schema with the token it will use). Anyone else learns nothing of the
    API: no credentials → the sign-in page (or 401 for a bad token), a non-staff user → 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            api_token = services.api_token_authenticate(raw=raw.strip())
            if api_token is None:
                return JsonResponse({"detail": "Unauthorized"}, status=401)
            user = api_token.user
        elif request.user.is_authenticated:
            user = request.user
        else:
            return redirect_to_login(request.get_full_path())
        if not user.is_staff:
            raise PermissionDenied(_STAFF_ONLY)
        return view(request, *args, **kwargs)

    return wrapped


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


_ERROR_SCHEMA = {
    "title": "ErrorOut",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["loc", "msg", "type"],
                        "properties": {
                            "loc": {
                                "type": "array",
                                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                            },
                            "msg": {"type": "string"},
                            "type": {"type": "string"},
                        },
                    },
                },
            ]
        }
    },
}
_ERRORS = {
    401: "No or bad credentials.",
    403: "The user is not staff, or the CSRF token of a session is missing.",
    404: "No record with this id.",
    409: "The change conflicts with another one made at the same time.",
    422: "Bad input: `detail` lists each field's problem.",
}


def _document_errors(schema: dict) -> dict:
    """Every token-authenticated operation answers these errors in one shape (see the module docstring);
    the document says so, so a generated client expects them instead of failing on them."""
    schema.setdefault("components", {}).setdefault("schemas", {})["ErrorOut"] = _ERROR_SCHEMA
    reference = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
    for operations in schema["paths"].values():
        for operation in operations.values():
            if "security" not in operation:
                continue  # the signed webhook documents its own answers
            for status, description in _ERRORS.items():
                operation["responses"].setdefault(status, {"description": description, **reference})
    return schema


class WorkspaceAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        return _document_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))

    @property
    def urls(self):
        patterns, app_name, namespace = super().urls
        # LoginRequiredMiddleware would send API clients to the login page; the operations
        # authenticate themselves and answer 401 instead, and the docs check with `staff_docs`.
        for pattern in patterns:
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
    docs_decorator=staff_docs,
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
