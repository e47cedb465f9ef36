"""What the API accepts as text: nothing the database cannot store.

The database backend cleans NUL characters for everything that reaches it (core.dbtext), which is right for
mail and files: they are kept, not refused. An API client, though, can be told: a NUL in a JSON body or a
query string is refused with 422 here, before any service sees it, instead of being stored altered.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser

MESSAGE = "Text may not contain the NUL character (\\u0000): it cannot be stored."


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class NulInBody(ValueError):
    pass


class TextParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body)
        if _has_nul(data):
            # ninja turns any parser error into a 400 "Cannot parse request body"; the handler below
            # answers this one as the validation error it is.
            raise NulInBody(MESSAGE)
        return data

    def parse_querydict(self, data: MultiValueDict, list_fields: list[str], request: HttpRequest) -> Any:
        for key, values in data.lists():
            if _has_nul(key) or _has_nul(values):
                raise ValidationError([{"loc": ["query", key], "msg": MESSAGE, "type": "value_error"}])
        return super().parse_querydict(data, list_fields, request)


def api_text_input_install(api: NinjaAPI) -> None:
    """Parse the API's input with TextParser and answer a NUL in a body with 422 like other bad input."""
    api.parser = TextParser()

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, NulInBody):
            detail = [{"loc": ["body"], "msg": MESSAGE, "type": "value_error"}]
            return api.create_response(request, {"detail": detail}, status=422)
        # ninja's own answer to every other HttpError.
        return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
