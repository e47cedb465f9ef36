"""What the API's routers share: pagination, related records taken by id, service errors under the API's
field names, and the four operations every kind of record has (list, get, create, update).

A kind of record's four operations differ only in their model, schemas, selector and services, so one
function writes them (`record_router`) and core/api.py names each kind once; an operation that does more
(a transition, a document) is written out beside them.
"""

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from core import schemas, selectors, services
from core.models import Client, Project, Proposal
from core.schemas import RecordId, changes


class Pagination(LimitOffsetPagination):
    # The maximum page size is in the schema, so the docs show it and a larger `limit` is a 422
    # instead of being cut down silently.
    class Input(Schema):
        limit: int = Field(settings.NINJA_PAGINATION_PER_PAGE, ge=1, le=settings.AIOS_API_PAGE_SIZE_MAX)
        offset: int = Field(0, ge=0)


paginated = paginate(Pagination)

# Services take and name related records (`project`); the API takes and names their ids.
_RELATED: dict[str, type[models.Model]] = {
    "client_id": Client,
    "project_id": Project,
    "proposal_id": Proposal,
}
ID_NAMES = {field.removesuffix("_id"): field for field in _RELATED}


def _related_record(model: type[models.Model], pk: int, *, field: str) -> models.Model:
    """The record a body field points at. Unknown is bad input (422); 404 is for the URL's record."""
    record = model.objects.filter(pk=pk).first()
    if record is None:
        raise ValidationError({field: f"There is no {model._meta.verbose_name} with id {pk}."})
    return record


def with_records(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with each related record's id (`project_id`) replaced by the record (`project`)."""
    for field, model in _RELATED.items():
        if field in data:
            pk = data.pop(field)
            data[field.removesuffix("_id")] = None if pk is None else _related_record(model, pk, field=field)
    return data


@contextmanager
def errors_named(names: dict[str, str]) -> Iterator[None]:
    """Report a service's field errors under the names this API's input uses."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        renamed = {names.get(field, field): errors for field, errors in exc.error_dict.items()}
        raise ValidationError(renamed) from exc


def _as_view(function: Callable, *, name: str, module: str, id_field: str | None = None) -> Callable:
    """`function` as ninja would see it written out in `module` as `name`.

    ninja derives an operation's id (`core_api_list_clients`), summary ("List Clients") and URL name from its
    view's module and name, so these stay those of the hand-written views they replace. It reads parameters
    from the view's signature, and a path parameter has the name it has in the path: `id_field` (`client_id`)
    takes the place of the function's `**path`, second as in a hand-written view. (A model behind `Path[…]`
    would publish a schema of its own in the document.)
    """
    function.__name__ = function.__qualname__ = name
    function.__module__ = module
    if id_field is not None:
        parameters = [
            p for p in inspect.signature(function).parameters.values() if p.kind is not p.VAR_KEYWORD
        ]
        id_parameter = inspect.Parameter(
            id_field, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=RecordId
        )
        function.__signature__ = inspect.Signature([parameters[0], id_parameter, *parameters[1:]])
    return function


def record_router(
    parent: Router,
    *,
    model: type[models.Model],
    module: str,
    prefetch: tuple[str, ...] = (),
    update_description: str | None = None,
) -> Router:
    """The operations of one kind of record, mounted on `parent` at its plural (`/clients`, tagged so):

    - `GET ""` → `list_clients`: `selectors.client_list(**ClientFilters)`, a page at a time;
    - `GET "/{client_id}"` → `get_client`;
    - `POST ""` → `create_client` (201): `services.client_create(by=…, **the ClientIn fields sent)`;
    - `PATCH "/{client_id}"` → `update_client`: `services.client_update(client=…, by=…, **the ClientPatch
      fields sent)`; `update_description` documents it.

    Everything is found by the model's name, as the app names it (docs/architecture.md): the selector and
    services `<model>_<action>`, the schemas `<Model>In`/`Patch`/`Out`/`Filters` in core.schemas; one that
    is missing fails at start-up. Related records come in as ids (`project_id`) and are refused (422) when
    unknown; the services' errors about them are named by those ids. `prefetch` names the related rows
    `<Model>Out` reads, so a page costs a fixed number of queries. Returned for the kind's other operations.
    """
    name = model._meta.model_name
    plural = f"{name}s"
    id_field = f"{name}_id"
    out, create_in, patch_in, filtered_by = (
        getattr(schemas, f"{model.__name__}{role}") for role in ("Out", "In", "Patch", "Filters")
    )
    listed = getattr(selectors, f"{name}_list")
    create, update = getattr(services, f"{name}_create"), getattr(services, f"{name}_update")

    def list_records(request: HttpRequest, filters: Query[filtered_by]):
        return listed(**filters.model_dump()).prefetch_related(*prefetch)

    def get_record(request: HttpRequest, **path: int):
        return get_object_or_404(model.objects.prefetch_related(*prefetch), pk=path[id_field])

    def create_record(request: HttpRequest, payload: create_in):
        with errors_named(ID_NAMES):
            return create(by=request.user, **with_records(changes(payload)))

    def update_record(request: HttpRequest, payload: patch_in, **path: int):
        record = get_object_or_404(model, pk=path[id_field])
        with errors_named(ID_NAMES):
            return update(**{name: record}, by=request.user, **with_records(changes(payload)))

    router = Router(tags=[plural])
    one = "/{" + id_field + "}"
    router.get("", response=list[out])(
        paginated(_as_view(list_records, name=f"list_{plural}", module=module))
    )
    router.get(one, response=out)(_as_view(get_record, name=f"get_{name}", module=module, id_field=id_field))
    router.post("", response={201: out})(_as_view(create_record, name=f"create_{name}", module=module))
    router.patch(one, response=out, description=update_description)(
        _as_view(update_record, name=f"update_{name}", module=module, id_field=id_field)
    )
    parent.add_router(f"/{plural}", router)
    return router
