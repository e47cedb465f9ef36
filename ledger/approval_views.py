"""The approval queue pages (DESIGN §7): what waits for the operator, one request in full, and the buttons
that decide it, made to be used on a phone.

Staff only, like the task pages. Every button is an ordinary form POST (no JavaScript needed) that calls
one service of `ledger.approvals`; a refusal (already decided, a reason missing, an edit the committer
refuses) becomes a message, never an error page. After a decision the operator is taken to the next
request that waits, so a queue can be worked through one tap at a time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from core import clock
from core.display import json_pretty
from core.http import staff_required
from ledger import approvals, selectors
from ledger.approval_invoice import INVOICE_KIND, invoice_preview
from ledger.buttons import button_call, decision_views
from ledger.commit import committer_effect, sender_address
from ledger.models import ApprovalRequest
from ledger.policy import FLOOR_TEXT
from ledger.views import cost_label

PAGE_SIZE = 100
EMAIL_KIND = "email.send"
PROPOSAL_KIND = "proposal.send"  # an email too (the cover letter), with the proposal's priced lines
# Emails too: the invoice with its PDF attached (shown as a page and its XML fields), a payment reminder.
EMAIL_KINDS = (EMAIL_KIND, PROPOSAL_KIND, INVOICE_KIND, "invoice.remind")
# The draft fields an operator may edit on an email; the threading headers are not for hand-editing.
EMAIL_FIELDS = ("to", "cc", "subject", "body")
ADDRESS_SEPARATORS = re.compile(r"[,;\s]+")
# A text field longer than this, or with a line break, is edited in a text area.
SHORT_TEXT = 80


staff_only = staff_required("The approval pages are for staff users.")


def _pretty(value: Any) -> str:
    """A value as the operator reads it: text as is, a list of plain values as "a, b", the rest as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ", ".join(map(str, value))
    return json_pretty(value)


def _percent(confidence: Any) -> str:
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        return "—"
    return f"{round(confidence * 100)} %"


# --- What the page shows -----------------------------------------------------------------------


def _valid_span(span: Any, length: int) -> tuple[int, int] | None:
    """[start, end) within the text, or None: agents' spans are untrusted and may be anything."""
    if not isinstance(span, list | tuple) or len(span) != 2:
        return None
    start, end = span
    if (
        isinstance(start, bool)
        or isinstance(end, bool)
        or not (isinstance(start, int) and isinstance(end, int))
    ):
        return None
    if not 0 <= start < end <= length:
        return None
    return start, end


def source_highlighted(text: str, inferred: list[Any]) -> SafeString:
    """The source text, HTML-escaped, with each inferred field's span in a <mark>.

    Invalid spans are ignored; of overlapping spans the one that starts first (then the longer) is kept,
    since nested or crossing <mark>s cannot be told apart on the page.
    """
    spans = []
    for item in inferred:
        if isinstance(item, dict) and (span := _valid_span(item.get("span"), len(text))):
            spans.append((span[0], -span[1], str(item.get("field", ""))))
    parts: list[str] = []
    position = 0
    for start, negative_end, name in sorted(spans):
        if start < position:
            continue
        end = -negative_end
        parts.append(format_html("{}", text[position:start]))
        parts.append(format_html('<mark title="{}">{}</mark>', name, text[start:end]))
        position = end
    parts.append(format_html("{}", text[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece went through format_html


def _floors(approval: ApprovalRequest) -> list[tuple[str, str]]:
    """(badge label, what the floor means) per hard floor of the request."""
    return [(str(floor).replace("_", " "), FLOOR_TEXT.get(floor, str(floor))) for floor in approval.floors]


def _inferred_rows(text: str, inferred: list[Any]) -> list[dict[str, str]]:
    rows = []
    for item in inferred:
        if not isinstance(item, dict):
            continue
        snippet = item.get("source") or ""
        span = _valid_span(item.get("span"), len(text))
        if not snippet and span:
            snippet = text[span[0] : span[1]]
        rows.append(
            {
                "field": str(item.get("field", "")),
                "value": _pretty(item.get("value")),
                "source": str(snippet),
                "confidence": _percent(item.get("confidence")),
            }
        )
    return rows


def _effect(approval: ApprovalRequest, by: Any) -> dict[str, Any]:
    """The proposed effect as its recipient will see it: an email as an email, anything else as fields."""
    kind, payload = approval.action.kind, approval.action.payload
    if kind in EMAIL_KINDS:
        return {
            "proposal": _proposal_preview(payload) if kind == PROPOSAL_KIND else None,
            "invoice": invoice_preview(approval=approval, payload=payload, by=by)
            if kind == INVOICE_KIND
            else None,
            "email": {
                "from": sender_address(),
                "to": ", ".join(map(str, payload.get("to") or [])),
                "cc": ", ".join(map(str, payload.get("cc") or [])),
                "subject": str(payload.get("subject", "")),
                "body": str(payload.get("body", "")),
                "in_reply_to": str(payload.get("in_reply_to") or ""),
            },
        }
    return {"fields": [(name, _pretty(value)) for name, value in payload.items()]}


def _editable_fields(kind: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The draft fields the edit form offers, with their current text."""
    if kind in EMAIL_KINDS:
        fields = [
            {"name": "to", "label": "To (comma-separated)", "value": ", ".join(payload.get("to") or [])},
            {"name": "cc", "label": "Cc (comma-separated)", "value": ", ".join(payload.get("cc") or [])},
            {"name": "subject", "label": "Subject", "value": payload.get("subject", "")},
            {"name": "body", "label": "Body", "value": payload.get("body", ""), "long": True},
        ]
        if kind == PROPOSAL_KIND:
            # The operator has the final say on price: each line's quantity and unit price are editable.
            fields.append({"name": "title", "label": "Proposal title", "value": payload.get("title", "")})
            for index, line in enumerate(payload.get("lines") or []):
                for part, label in (("quantity", "quantity"), ("unit_price", "unit price")):
                    fields.append(
                        {
                            "name": f"line-{index}-{part}",
                            "label": f"{line.get('description', 'Line')}: {label}",
                            "value": str(line.get(part, "")),
                            "line": (index, part),
                        }
                    )
        return fields
    fields = []
    for name, value in payload.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue  # lists, objects and flags are not edited as text
        text = str(value)
        fields.append(
            {
                "name": name,
                "label": name.replace("_", " ").capitalize(),
                "value": text,
                "long": isinstance(value, str) and (len(text) > SHORT_TEXT or "\n" in text),
                "number": not isinstance(value, str),
            }
        )
    return fields


def _addresses(text: str) -> list[str]:
    return [address for address in ADDRESS_SEPARATORS.split(text) if address]


def edit_changes(kind: str, payload: dict[str, Any], posted) -> dict[str, Any]:
    """The fields of the draft the operator changed: new values only where they differ.

    Browsers send a text area's line breaks as CRLF; they are made LF again so an untouched body is not
    seen as an edit.
    """
    changes: dict[str, Any] = {}
    lines = [dict(line) for line in payload.get("lines") or []]
    lines_changed = False
    for field in _editable_fields(kind, payload):
        name = field["name"]
        if name not in posted:
            continue
        text = posted[name].replace("\r\n", "\n")
        if "line" in field:
            index, part = field["line"]
            try:
                value = Decimal(text.strip())
            except (InvalidOperation, ValueError):
                raise ValidationError({name: f"{field['label']} must be a number."}) from None
            if not value.is_finite() or value < 0:
                raise ValidationError({name: f"{field['label']} must be a number, not negative."})
            if value != Decimal(str(lines[index].get(part, "0"))):
                lines[index][part] = str(value)
                lines_changed = True
            continue
        before = payload.get(name)
        if kind in EMAIL_KINDS and name in ("to", "cc"):
            after: Any = _addresses(text)
            if after != list(before or []):
                changes[name] = after
            continue
        if field.get("number"):
            try:
                after = type(before)(text.strip())
            except ValueError:
                raise ValidationError({name: f"{field['label']} must be a number."}) from None
        else:
            after = text
        if after != before:
            changes[name] = after
    if lines_changed:
        changes["lines"] = lines
    return changes


def _proposal_preview(payload: dict[str, Any]) -> dict[str, Any]:
    """The proposal's lines and total as the client will read them (amounts as the committer rounds)."""
    rows, total = [], Decimal("0")
    for line in payload.get("lines") or []:
        try:
            quantity, price = Decimal(str(line.get("quantity"))), Decimal(str(line.get("unit_price")))
        except (InvalidOperation, ValueError):
            continue
        amount = (quantity * price).quantize(Decimal("0.01"))
        total += amount
        rows.append(
            {
                "description": line.get("description", ""),
                "quantity": f"{quantity.normalize():f} {line.get('unit', '')}".strip(),
                "unit_price": price,
                "amount": amount,
            }
        )
    return {
        "title": payload.get("title", ""),
        "lines": rows,
        "total": total,
        "currency": payload.get("currency"),
    }


def _task_cost_so_far(task) -> dict[str, Any]:
    """What the task's LLM calls cost until now: `task.cost` is only summed when the task finishes."""
    totals = task.llm_calls.aggregate(cost=Coalesce(Sum("cost"), Decimal("0")), calls=Count("pk"))
    return {"llm": cost_label(totals["cost"]), "calls": totals["calls"]}


def _recalls(task) -> list:
    # Prefetched by the selector; oldest first, as the agent made them.
    return sorted(task.memory_recalls.all(), key=lambda recall: (recall.created_at, recall.pk))


def _next_pending_url(*, after: int) -> str:
    next_id = selectors.approval_queue().exclude(pk=after).values_list("pk", flat=True).first()
    if next_id is None:
        return reverse("approvals:list")
    return reverse("approvals:detail", args=[next_id])


# --- Pages -----------------------------------------------------------------------------------


@require_GET
@staff_only
def approval_list_page(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", ApprovalRequest.Status.PENDING)
    if status not in ApprovalRequest.Status.values:
        status = ApprovalRequest.Status.PENDING
    counts = selectors.approval_counts()
    queue = selectors.approval_queue(status=status)
    if status != ApprovalRequest.Status.PENDING:
        # Decided requests are looked back on: the most recent decision first.
        queue = queue.order_by("-decided_at", "-pk")
    page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
    now = clock.now()
    return render(
        request,
        "approvals/list.html",
        {
            "page": page,
            "rows": [
                {
                    "approval": approval,
                    "floors": _floors(approval),
                    "expired": approval.expires_at <= now,
                }
                for approval in page
            ],
            "status": status,
            "pending": status == ApprovalRequest.Status.PENDING,
            "statuses": [
                (value, label, counts.get(value, 0)) for value, label in ApprovalRequest.Status.choices
            ],
            "pending_count": counts.get(ApprovalRequest.Status.PENDING, 0),
            "suggestions": selectors.autonomy_suggestions_open(),
        },
    )


def _other_clients(refs: Any) -> list[dict[str, Any]]:
    """Other clients' records the mail points at (core.scope.ForeignRef): a link and figures each; only a
    relative link into the back office is kept as a link."""
    rows = []
    for ref in refs if isinstance(refs, list) else []:
        if not isinstance(ref, dict):
            continue
        url = str(ref.get("url") or "")
        figures = ref.get("figures") if isinstance(ref.get("figures"), dict) else {}
        rows.append(
            {
                "label": str(ref.get("label") or ref.get("kind") or "record"),
                "url": url if url.startswith("/") and not url.startswith("//") else "",
                "figures": " · ".join(f"{key} {value}" for key, value in figures.items()),
            }
        )
    return rows


def _detail_context(approval: ApprovalRequest, *, by: Any, form_values: dict[str, str] | None = None) -> dict:
    action, task = approval.action, approval.task
    source = action.source if isinstance(action.source, dict) else {}
    text = source.get("text") if isinstance(source.get("text"), str) else ""
    inferred = action.inferred if isinstance(action.inferred, list) else []
    editable = _editable_fields(action.kind, action.payload)
    if form_values is not None:
        for field in editable:
            field["value"] = form_values.get(field["name"], field["value"])
    return {
        "approval": approval,
        "action": action,
        "task": task,
        "pending": approval.status == ApprovalRequest.Status.PENDING,
        "effect_class": committer_effect(action.kind) or "unknown",
        "effect": _effect(approval, by),
        "editable": editable,
        "edit_open": form_values is not None,
        "source": {
            "text": source_highlighted(text, inferred) if text else "",
            "about": {key: value for key, value in source.items() if key not in ("text", "other_clients")},
            "other_clients": _other_clients(source.get("other_clients")),
        },
        "inferred": _inferred_rows(text, inferred),
        "confidence": _percent(action.confidence),
        "floors": _floors(approval),
        "memory_recalls": _recalls(task),
        "cost": _task_cost_so_far(task),
        "edit_diff": [
            (name, _pretty(change.get("before")), _pretty(change.get("after")))
            for name, change in approval.edit_diff.items()
            if isinstance(change, dict)
        ],
    }


def _get_detail(approval_id: int) -> ApprovalRequest:
    try:
        return selectors.approval_detail(approval_id=approval_id)
    except ApprovalRequest.DoesNotExist:
        raise Http404("No approval request has this id.") from None


@require_GET
@staff_only
def approval_page(request: HttpRequest, approval_id: int) -> HttpResponse:
    return render(
        request, "approvals/detail.html", _detail_context(_get_detail(approval_id), by=request.user)
    )


# --- Buttons ---------------------------------------------------------------------------------


def _label(approval: ApprovalRequest) -> str:
    return approval.action.summary or approval.action.kind


def _refused(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


def _approval_decide(
    request: HttpRequest, decide: Callable[..., object], done: str, *, approval_id: int, **extra: Any
) -> HttpResponse:
    """Approve or reject from the detail page (the service `decide(approval=…, by=the operator, **extra)`):
    on to the next pending request, or back with the refusal."""
    approval = get_object_or_404(ApprovalRequest.objects.select_related("action"), pk=approval_id)
    if not button_call(
        request,
        lambda: decide(approval=approval, by=request.user, **extra),
        done=f"{done}: {_label(approval)}.",
    ):
        return redirect("approvals:detail", approval.pk)
    return redirect(_next_pending_url(after=approval.pk))


approval_approve_view, approval_reject_view = decision_views(
    _approval_decide,
    approve=approvals.approval_approve,
    reject=approvals.approval_reject,
    staff_only=staff_only,
)


@require_POST
@staff_only
def approval_edit_approve(request: HttpRequest, approval_id: int) -> HttpResponse:
    """Edit then approve: only the fields that differ from the draft are sent, and kept as a diff."""
    approval = _get_detail(approval_id)
    try:
        changes = edit_changes(approval.action.kind, approval.action.payload, request.POST)
        approvals.approval_approve(approval=approval, by=request.user, changes=changes or None)
    except ValidationError as exc:
        _refused(request, exc)
        # Shown again with what was typed, so a long edited body is not lost to one bad address.
        posted = {name: request.POST[name].replace("\r\n", "\n") for name in request.POST}
        approval.refresh_from_db()
        return render(
            request, "approvals/detail.html", _detail_context(approval, by=request.user, form_values=posted)
        )
    done = "Edited and approved" if changes else "Approved (nothing was changed)"
    messages.success(request, f"{done}: {_label(approval)}.")
    return redirect(_next_pending_url(after=approval.pk))


@require_POST
@staff_only
def approval_batch(request: HttpRequest) -> HttpResponse:
    """The list's form: approve or reject every ticked request; each is decided on its own."""
    ids = [value for value in request.POST.getlist("ids") if value.isdigit()]
    decision = request.POST.get("decision")
    back = redirect("approvals:list")
    if not ids:
        messages.error(request, "Select at least one request first.")
        return back
    try:
        if decision == "approve":
            result = approvals.approvals_approve_many(ids=ids, by=request.user)
            verb = "Approved"
        elif decision == "reject":
            result = approvals.approvals_reject_many(
                ids=ids, by=request.user, reason=request.POST.get("reason", "")
            )
            verb = "Rejected"
        else:
            messages.error(request, "Choose Approve selected or Reject selected.")
            return back
    except ValidationError as exc:
        _refused(request, exc)
        return back
    if result.done:
        messages.success(request, f"{verb} {len(result.done)} request{'s' if len(result.done) != 1 else ''}.")
    for pk, message in sorted(result.refused.items()):
        messages.error(request, f"Request #{pk}: {message}")
    return back
