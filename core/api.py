"""The JSON API of the canonical records, mounted at /api/v1/ by aios/api.py.

Endpoints parse input, call one service with `by=request.user` and return the record. Lists are
paginated with `limit` and `offset` and read a page in a fixed number of queries.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from core import clock, selectors, services
from core.invoicing import documents
from core.models import Client, Contact, CreditNote, Invoice, Project, Proposal
from core.schemas import (
    AgingRow,
    ClientFilters,
    ClientIn,
    ClientOut,
    ClientPatch,
    ContactFilters,
    ContactIn,
    ContactOut,
    ContactPatch,
    InvoiceFilters,
    InvoiceIn,
    InvoiceIssueIn,
    InvoiceOut,
    InvoicePaidIn,
    InvoicePatch,
    InvoiceSentIn,
    InvoiceVoidIn,
    OverdueInvoiceOut,
    ProjectFilters,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    ProposalFilters,
    ProposalIn,
    ProposalOut,
    ProposalPatch,
    ProposalTransitionIn,
    RecordId,
    changes,
)

router = Router()
clients = Router(tags=["clients"])
contacts = Router(tags=["contacts"])
projects = Router(tags=["projects"])
proposals = Router(tags=["proposals"])
invoices = Router(tags=["invoices"])
# The key is the int ninja uses for its own 200, so the two merge: a string "200" beside it would put the
# key in the document twice, which JSON parsers forgive and Swagger UI's YAML parser refuses.
PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "The PDF.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


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
_ID_NAMES = {field.removesuffix("_id"): field for field in _RELATED}


def _related_record(model: type[models.Model], pk: int, *, field: str) -> models.Model:
    """The record a body field points at. Unknown is bad input (422); 404 is for the URL's record."""
    record = model.objects.filter(pk=pk).first()
    if record is None:
        raise ValidationError({field: f"There is no {model._meta.verbose_name} with id {pk}."})
    return record


def _with_records(data: dict[str, Any]) -> dict[str, Any]:
    for field, model in _RELATED.items():
        if field in data:
            pk = data.pop(field)
            data[field.removesuffix("_id")] = None if pk is None else _related_record(model, pk, field=field)
    return data


@contextmanager
def _errors_named(names: dict[str, str]) -> Iterator[None]:
    """Report a service's field errors under the names this API's input uses."""
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        renamed = {names.get(field, field): errors for field, errors in exc.error_dict.items()}
        raise ValidationError(renamed) from exc


# --- Clients -------------------------------------------------------------------------------------


@clients.get("", response=list[ClientOut])
@paginated
def list_clients(request: HttpRequest, filters: Query[ClientFilters]):
    return selectors.client_list(**filters.model_dump())


@clients.get("/{client_id}", response=ClientOut)
def get_client(request: HttpRequest, client_id: RecordId):
    return get_object_or_404(Client, pk=client_id)


@clients.post("", response={201: ClientOut})
def create_client(request: HttpRequest, payload: ClientIn):
    return services.client_create(by=request.user, **changes(payload))


@clients.patch("/{client_id}", response=ClientOut)
def update_client(request: HttpRequest, client_id: RecordId, payload: ClientPatch):
    client = get_object_or_404(Client, pk=client_id)
    return services.client_update(client=client, by=request.user, **changes(payload))


# --- Contacts ------------------------------------------------------------------------------------


@contacts.get("", response=list[ContactOut])
@paginated
def list_contacts(request: HttpRequest, filters: Query[ContactFilters]):
    return selectors.contact_list(**filters.model_dump())


@contacts.get("/{contact_id}", response=ContactOut)
def get_contact(request: HttpRequest, contact_id: RecordId):
    return get_object_or_404(Contact, pk=contact_id)


@contacts.post("", response={201: ContactOut})
def create_contact(request: HttpRequest, payload: ContactIn):
    return services.contact_create(by=request.user, **_with_records(changes(payload)))


@contacts.patch("/{contact_id}", response=ContactOut)
def update_contact(request: HttpRequest, contact_id: RecordId, payload: ContactPatch):
    contact = get_object_or_404(Contact, pk=contact_id)
    return services.contact_update(contact=contact, by=request.user, **changes(payload))


# --- Projects ------------------------------------------------------------------------------------


@projects.get("", response=list[ProjectOut])
@paginated
def list_projects(request: HttpRequest, filters: Query[ProjectFilters]):
    return selectors.project_list(**filters.model_dump())


@projects.get("/{project_id}", response=ProjectOut)
def get_project(request: HttpRequest, project_id: RecordId):
    return get_object_or_404(Project, pk=project_id)


@projects.post("", response={201: ProjectOut})
def create_project(request: HttpRequest, payload: ProjectIn):
    return services.project_create(by=request.user, **_with_records(changes(payload)))


@projects.patch("/{project_id}", response=ProjectOut)
def update_project(request: HttpRequest, project_id: RecordId, payload: ProjectPatch):
    project = get_object_or_404(Project, pk=project_id)
    return services.project_update(project=project, by=request.user, **changes(payload))


# --- Proposals -----------------------------------------------------------------------------------


@proposals.get("", response=list[ProposalOut])
@paginated
def list_proposals(request: HttpRequest, filters: Query[ProposalFilters]):
    return selectors.proposal_list(**filters.model_dump())


@proposals.get("/{proposal_id}", response=ProposalOut)
def get_proposal(request: HttpRequest, proposal_id: RecordId):
    return get_object_or_404(Proposal.objects.prefetch_related("lines"), pk=proposal_id)


@proposals.post("", response={201: ProposalOut})
def create_proposal(request: HttpRequest, payload: ProposalIn):
    with _errors_named(_ID_NAMES):
        return services.proposal_create(by=request.user, **_with_records(changes(payload)))


@proposals.patch("/{proposal_id}", response=ProposalOut)
def update_proposal(request: HttpRequest, proposal_id: RecordId, payload: ProposalPatch):
    """Sent `lines` replace all lines. Only drafts change."""
    proposal = get_object_or_404(Proposal, pk=proposal_id)
    with _errors_named(_ID_NAMES):
        return services.proposal_update(proposal=proposal, by=request.user, **_with_records(changes(payload)))


@proposals.post("/{proposal_id}/transition", response=ProposalOut)
def transition_proposal(request: HttpRequest, proposal_id: RecordId, payload: ProposalTransitionIn):
    """Draft → pending approval → sent → accepted or declined; or withdrawn."""
    proposal = get_object_or_404(Proposal, pk=proposal_id)
    with _errors_named({"status": "to"}):
        return services.proposal_transition(proposal=proposal, to=payload.to, by=request.user)


# --- Invoices ------------------------------------------------------------------------------------


@invoices.get("/aging", response=list[AgingRow])
def receivables_aging(request: HttpRequest):
    """Open invoices per currency: not yet due, 1–30, 31–60, 61–90 and over 90 days past due."""
    return selectors.receivables_aging(today=timezone.localdate(clock.now()))


@invoices.get("/overdue", response=list[OverdueInvoiceOut])
@paginated
def list_overdue_invoices(request: HttpRequest):
    """Overdue invoices, the longest overdue first, with the reminder levels each has been sent."""
    return selectors.invoices_overdue().prefetch_related("reminders")


@invoices.get("", response=list[InvoiceOut])
@paginated
def list_invoices(request: HttpRequest, filters: Query[InvoiceFilters]):
    return selectors.invoice_list(**filters.model_dump()).prefetch_related("lines")


@invoices.get("/{invoice_id}", response=InvoiceOut)
def get_invoice(request: HttpRequest, invoice_id: RecordId):
    return get_object_or_404(Invoice.objects.prefetch_related("lines"), pk=invoice_id)


@invoices.post("", response={201: InvoiceOut})
def create_invoice(request: HttpRequest, payload: InvoiceIn):
    with _errors_named(_ID_NAMES):
        return services.invoice_create(by=request.user, **_with_records(changes(payload)))


@invoices.patch("/{invoice_id}", response=InvoiceOut)
def update_invoice(request: HttpRequest, invoice_id: RecordId, payload: InvoicePatch):
    """Sent `lines` replace all lines. Only drafts change: void an issued invoice and re-issue it."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    with _errors_named(_ID_NAMES):
        return services.invoice_update(invoice=invoice, by=request.user, **_with_records(changes(payload)))


@invoices.post("/{invoice_id}/issue", response=InvoiceOut)
def issue_invoice(request: HttpRequest, invoice_id: RecordId, payload: InvoiceIssueIn | None = None):
    """Draft → approved: freezes the lines and gives the next gap-free number of the year."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    return documents.invoice_issue_with_document(invoice=invoice, by=request.user, **changes(payload))


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@invoices.get("/{invoice_id}/pdf", response={200: None}, openapi_extra=PDF_RESPONSE)
def invoice_pdf(request: HttpRequest, invoice_id: RecordId):
    """The invoice as PDF/A-3 with its Factur-X (EN 16931) XML: the stored document of an issued
    invoice; for a draft, a preview marked DRAFT."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    return _pdf_response(*documents.invoice_pdf(invoice=invoice, by=request.user))


@invoices.get("/{invoice_id}/credit-note/pdf", response={200: None}, openapi_extra=PDF_RESPONSE)
def credit_note_pdf(request: HttpRequest, invoice_id: RecordId):
    """The credit note that cancels a void invoice, as PDF/A-3 with its Factur-X XML (type 381)."""
    note = get_object_or_404(CreditNote, invoice_id=invoice_id)
    return _pdf_response(*documents.credit_note_pdf(note=note, by=request.user))


@invoices.post("/{invoice_id}/mark-sent", response=InvoiceOut)
def mark_invoice_sent(request: HttpRequest, invoice_id: RecordId, payload: InvoiceSentIn | None = None):
    """Records that the invoice went out by some other way (handed over, another mail program); it sends
    nothing. To send it by email with its PDF, `POST /invoices/{id}/send`."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    return services.invoice_mark_sent(invoice=invoice, by=request.user, **changes(payload))


@invoices.post("/{invoice_id}/pay", response=InvoiceOut)
def mark_invoice_paid(request: HttpRequest, invoice_id: RecordId, payload: InvoicePaidIn | None = None):
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    return services.invoice_mark_paid(invoice=invoice, by=request.user, **changes(payload))


@invoices.post("/{invoice_id}/void", response=InvoiceOut)
def void_invoice(request: HttpRequest, invoice_id: RecordId, payload: InvoiceVoidIn):
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    with _errors_named({"void_reason": "reason"}):
        return services.invoice_void(invoice=invoice, by=request.user, reason=payload.reason)


@invoices.post("/{invoice_id}/reissue", response={201: InvoiceOut})
def reissue_invoice(request: HttpRequest, invoice_id: RecordId):
    """A new draft with the lines of a void invoice, linked to it, to correct and issue."""
    invoice = get_object_or_404(Invoice, pk=invoice_id)
    return services.invoice_reissue(invoice=invoice, by=request.user)


router.add_router("/clients", clients)
router.add_router("/contacts", contacts)
router.add_router("/projects", projects)
router.add_router("/proposals", proposals)
router.add_router("/invoices", invoices)
