"""The approval queue pages and API: staff only, approve / edit then approve / reject / batch with exact
database outcomes, the source with its highlighted spans, CSRF, and a list page whose query count does
not grow with the queue."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import services as core_services
from ledger import approvals
from ledger.approval_views import edit_changes, source_highlighted
from ledger.models import Action, ApprovalRequest, Task
from tests.factories import UserFactory
from tests.ledger.approval_states import ANNA, pending_approval, pending_approvals
from tests.ledger.states import waiting_email

LIST = reverse("approvals:list")


def detail_url(approval):
    return reverse("approvals:detail", args=[approval.pk])


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def approval_of(task) -> ApprovalRequest:
    return ApprovalRequest.objects.select_related("action", "task").get(task=task)


def refreshed(approval) -> ApprovalRequest:
    return ApprovalRequest.objects.select_related("action", "task", "decided_by").get(pk=approval.pk)


# --- Who may see and act ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", ["list", "detail", "approve", "edit", "reject", "batch"])
def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_is_decided(client, method, name):
    approval = pending_approvals(1)[0]
    args = [] if name in ("list", "batch") else [approval.pk]
    response = getattr(client, method)(
        reverse(f"approvals:{name}", args=args), {"reason": "no", "ids": [approval.pk]}
    )
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/?next=/approvals/")
    assert refreshed(approval).status == "pending"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["list", "detail"])
def test_pages_are_for_staff_only(client, name):
    approval = pending_approvals(1)[0]
    client.force_login(UserFactory(email="helper@example.com"))
    args = [] if name == "list" else [approval.pk]
    assert client.get(reverse(f"approvals:{name}", args=args)).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["approve", "edit", "reject", "batch"])
def test_buttons_are_for_staff_only_and_decide_nothing(client, name):
    approval = pending_approvals(1)[0]
    client.force_login(UserFactory(email="helper@example.com"))
    args = [] if name == "batch" else [approval.pk]
    data = {"reason": "no", "ids": [approval.pk], "decision": "approve", "subject": "Changed"}
    assert client.post(reverse(f"approvals:{name}", args=args), data).status_code == 403
    approval = refreshed(approval)
    assert (approval.status, approval.decided_by, approval.action.status) == ("pending", None, "proposed")
    assert approval.action.payload["subject"] == "The signed proposal #0"


@pytest.mark.django_db
def test_buttons_need_post(operator_client):
    approval = pending_approvals(1)[0]
    assert operator_client.get(reverse("approvals:approve", args=[approval.pk])).status_code == 405
    assert refreshed(approval).status == "pending"


@pytest.mark.django_db
def test_a_post_without_the_csrf_token_is_refused(operator):
    approval = pending_approvals(1)[0]
    browser = HttpClient(enforce_csrf_checks=True)
    browser.force_login(operator)
    response = browser.post(reverse("approvals:approve", args=[approval.pk]))
    assert response.status_code == 403
    approval = refreshed(approval)
    assert (approval.status, approval.action.status) == ("pending", "proposed")


# --- The list ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_shows_what_waits_most_urgent_and_oldest_first(operator_client, operator):
    quiet = waiting_email(operator, key="quiet")
    urgent_old, urgent_new = pending_approvals(2)
    ApprovalRequest.objects.filter(task=quiet).update(urgency=0)

    response = operator_client.get(LIST)

    assert response.status_code == 200
    assert [row["approval"].pk for row in response.context["rows"]] == [
        urgent_old.pk,
        urgent_new.pk,
        approval_of(quiet).pk,
    ]
    html = response.content.decode()
    assert "3 requests wait for you" in html
    assert "The signed proposal #0" in html and "mail_composer" in html and "email.send" in html
    assert "Hard floor: sending to a recipient never written to." in html
    assert '<span class="badge badge-floor" title="sending to a recipient the workspace has never' in html
    assert html.count('type="checkbox" name="ids"') == 3
    assert 'name="decision" value="approve"' in html and 'name="decision" value="reject"' in html
    assert "expires in" in html and "ago" in html


@pytest.mark.django_db
def test_the_list_filters_recently_decided(operator_client, operator):
    decided, waiting = pending_approvals(2)
    approvals.approval_reject(approval=decided, by=operator, reason="Wrong client")

    response = operator_client.get(LIST, {"status": "rejected"})

    assert [row["approval"].pk for row in response.context["rows"]] == [decided.pk]
    html = response.content.decode()
    assert 'type="checkbox" name="ids"' not in html and "by operator" in html
    assert dict((value, count) for value, _, count in response.context["statuses"]) == {
        "pending": 1,
        "approved": 0,
        "rejected": 1,
        "expired": 0,
        "cancelled": 0,
    }
    assert operator_client.get(LIST, {"status": "nonsense"}).context["status"] == "pending"
    assert waiting.pk in [row["approval"].pk for row in operator_client.get(LIST).context["rows"]]


@pytest.mark.django_db
def test_the_list_pages_at_100(operator_client):
    pending_approvals(101)
    first = operator_client.get(LIST)
    assert len(first.context["rows"]) == 100 and first.context["page"].paginator.num_pages == 2
    second = operator_client.get(LIST, {"page": 2})
    assert len(second.context["rows"]) == 1
    # The page links keep the status shown.
    first_html, second_html = first.content.decode(), second.content.decode()
    assert '<a href="?status=pending&amp;page=2">Next</a>' in first_html and "Previous" not in first_html
    assert "Page 1 of 2" in first_html and "Page 2 of 2" in second_html
    assert '<a href="?status=pending&amp;page=1">Previous</a>' in second_html and ">Next<" not in second_html


@pytest.mark.django_db
def test_the_list_runs_the_same_number_of_queries_for_10_and_500_requests(operator_client):
    pending_approvals(10)
    operator_client.get(LIST)  # the session and the user, as warm as on the second request
    with CaptureQueriesContext(connection) as ten:
        assert operator_client.get(LIST).status_code == 200
    pending_approvals(490)
    with CaptureQueriesContext(connection) as five_hundred:
        response = operator_client.get(LIST)
    assert response.status_code == 200 and len(response.context["rows"]) == 100
    assert len(five_hundred) == len(ten), [query["sql"] for query in five_hundred.captured_queries]
    # Session, user, the page, its count, the open autonomy suggestions and the staff notices banner.
    assert len(ten) <= 7, [query["sql"][:90] for query in ten.captured_queries]


# --- One request -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_detail_shows_the_email_as_sent_the_source_spans_and_what_the_agent_used(
    operator_client, settings
):
    settings.DEFAULT_FROM_EMAIL = "studio@example.com"
    approval = pending_approval()

    response = operator_client.get(detail_url(approval))

    assert response.status_code == 200
    html = response.content.decode()
    # The email as the recipient sees it.
    assert "<dt>From</dt><dd>studio@example.com</dd>" in html
    assert f"<dt>To</dt><dd>{ANNA}</dd>" in html
    assert "<strong>The signed proposal #0</strong>" in html
    assert '<pre class="email-body">Hello Anna,\n\nHere is the signed proposal' in html
    # The source, escaped, with the spans the agent read marked.
    assert f'<mark title="to">{ANNA}</mark>' in html
    assert '<mark title="subject">&lt;signed&gt; proposal</mark>' in html
    assert '<mark title="amount">4 800 EUR</mark>' in html
    assert "<signed>" not in html
    # Every inferred field with its value, where it was read and the confidence.
    rows = response.context["inferred"]
    assert [(row["field"], row["confidence"]) for row in rows] == [
        ("to", "97 %"),
        ("subject", "81 %"),
        ("amount", "60 %"),
    ]
    assert rows[2]["source"] == "The budget is 4 800 EUR." and rows[1]["source"] == "<signed> proposal"
    # Memory, cost so far, and the policy that asked.
    assert "Anna proposal signed" in html and "Anna prefers the proposal as a PDF link" in html
    assert "0.001500 USD" in html and "2 LLM calls" in html
    assert "builtin:external-effects" in html and "new recipient" in html
    assert "sending to a recipient the workspace has never written to needs the operator" in html
    # The three ways to decide.
    for name in ("approve", "edit", "reject"):
        assert f'action="{reverse(f"approvals:{name}", args=[approval.pk])}"' in html
    assert '<textarea id="edit-body" name="body" rows="10">\nHello Anna,' in html


@pytest.mark.django_db
def test_other_kinds_show_their_payload_as_fields_and_edit_text_and_numbers(operator_client):
    payload = {
        "title": "Go with the <b>blue</b> logo",
        "rationale": "Client chose it",
        "client_id": 3,
        "tags": ["a"],
        "flag": True,
    }
    approval = pending_approvals(1, kind="decision.record", payload=payload, with_source=False)[0]

    response = operator_client.get(detail_url(approval))

    html = response.content.decode()
    assert "Go with the &lt;b&gt;blue&lt;/b&gt; logo" in html and "<b>blue</b>" not in html
    # jsonb keeps keys in its own order, so the page follows the stored payload's.
    assert sorted(name for name, _ in response.context["effect"]["fields"]) == sorted(payload)
    assert sorted(field["name"] for field in response.context["editable"]) == [
        "client_id",
        "rationale",
        "title",
    ]
    assert "No source text" in html and "reported no inferred field" in html


@pytest.mark.django_db
def test_an_unknown_request_is_404(operator_client):
    assert operator_client.get(reverse("approvals:detail", args=[999999])).status_code == 404
    assert operator_client.post(reverse("approvals:approve", args=[999999])).status_code == 404


def test_invalid_and_overlapping_spans_are_ignored_and_text_is_escaped():
    text = "a <b> & c d"
    inferred = [
        {"field": "x", "span": [2, 5]},  # "<b>"
        {"field": "overlaps", "span": [3, 8]},
        {"field": "empty", "span": [4, 4]},
        {"field": "past the end", "span": [9, 99]},
        {"field": "negative", "span": [-1, 2]},
        {"field": "not ints", "span": ["0", "1"]},
        {"field": "bools", "span": [False, True]},
        {"field": "short", "span": [1]},
        {"field": "none"},
        "not a dict",
        {"field": '"q"', "span": [10, 11]},  # "d"
    ]
    assert str(source_highlighted(text, inferred)) == (
        'a <mark title="x">&lt;b&gt;</mark> &amp; c <mark title="&quot;q&quot;">d</mark>'
    )
    assert str(source_highlighted("<script>", [])) == "&lt;script&gt;"


def test_edit_changes_keeps_only_what_differs():
    payload = {
        "to": ["a@example.com"],
        "cc": [],
        "subject": "Hi",
        "body": "Line 1\nLine 2",
        "in_reply_to": "",
    }
    posted = {
        "to": "a@example.com",
        "cc": "b@example.com, c@example.com",
        "subject": "Hi",
        "body": "Line 1\r\nLine 2",
    }
    assert edit_changes("email.send", payload, posted) == {"cc": ["b@example.com", "c@example.com"]}
    other = {"title": "T", "count": 3, "ratio": 0.5}
    assert edit_changes("x", other, {"title": "T", "count": "4", "ratio": "0.5"}) == {"count": 4}


# --- Deciding ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_approve_decides_resumes_the_task_and_goes_to_the_next_request(operator_client, operator):
    first = approval_of(waiting_email(operator, key="one"))
    second = approval_of(waiting_email(operator, key="two"))

    response = operator_client.post(reverse("approvals:approve", args=[first.pk]))

    assert response.status_code == 302 and response.url == detail_url(second)
    assert messages_of(response) == ["Approved: Email client@example.com: Your proposal."]
    first = refreshed(first)
    assert (first.status, first.decided_by, first.edited, first.edit_diff) == (
        "approved",
        operator,
        False,
        {},
    )
    assert (first.action.status, first.action.decided_by) == ("approved", operator)
    assert first.task.status == "queued"
    assert refreshed(second).status == "pending"

    last = operator_client.post(reverse("approvals:approve", args=[second.pk]))
    assert last.url == LIST


@pytest.mark.django_db
def test_approving_twice_is_refused_with_a_message(operator_client, operator):
    approval = approval_of(waiting_email(operator))
    approvals.approval_reject(approval=approval, by=operator, reason="No")

    response = operator_client.post(reverse("approvals:approve", args=[approval.pk]), follow=True)

    assert messages_of(response) == ["This request is already rejected."]
    approval = refreshed(approval)
    assert (approval.status, approval.action.status) == ("rejected", "rejected")
    html = response.content.decode()
    assert "Outcome: Rejected" in html and "<strong>Reason:</strong> No" in html
    assert 'action="' + reverse("approvals:approve", args=[approval.pk]) not in html


@pytest.mark.django_db
def test_edit_then_approve_changes_the_payload_and_keeps_the_diff(operator_client, operator):
    approval = approval_of(waiting_email(operator))
    draft = dict(approval.action.payload)

    response = operator_client.post(
        reverse("approvals:edit", args=[approval.pk]),
        {
            "to": "client@example.com",
            "cc": "partner@example.com",
            "subject": "Your proposal, revised",
            "body": draft["body"].replace("\n", "\r\n"),
        },
    )

    assert response.status_code == 302 and response.url == LIST
    assert messages_of(response) == ["Edited and approved: Email client@example.com: Your proposal."]
    approval = refreshed(approval)
    assert approval.status == "approved" and approval.decided_by == operator and approval.edited is True
    assert approval.edit_diff == {
        "cc": {"before": [], "after": ["partner@example.com"]},
        "subject": {"before": "Your proposal", "after": "Your proposal, revised"},
    }
    assert approval.action.payload == {
        **draft,
        "cc": ["partner@example.com"],
        "subject": "Your proposal, revised",
    }
    assert approval.action.status == "approved"

    outcome = operator_client.get(detail_url(approval)).content.decode()
    assert "Edited before approving" in outcome and "Your proposal, revised" in outcome


@pytest.mark.django_db
def test_a_refused_edit_keeps_what_was_typed_and_decides_nothing(operator_client, operator):
    approval = approval_of(waiting_email(operator))
    draft = dict(approval.action.payload)

    response = operator_client.post(
        reverse("approvals:edit", args=[approval.pk]),
        {"to": "not-an-address", "cc": "", "subject": "Typed subject", "body": "A long new body"},
    )

    assert response.status_code == 200
    assert len(messages_of(response)) == 1 and "email" in messages_of(response)[0].lower()
    html = response.content.decode()
    assert (
        'value="Typed subject"' in html
        and "A long new body</textarea>" in html
        and '<details class="edit" open>' in html
    )
    approval = refreshed(approval)
    assert (approval.status, approval.action.status, approval.action.payload) == (
        "pending",
        "proposed",
        draft,
    )


@pytest.mark.django_db
def test_reject_needs_a_reason(operator_client, operator):
    approval = approval_of(waiting_email(operator))

    refused = operator_client.post(reverse("approvals:reject", args=[approval.pk]), {"reason": "  "})

    assert refused.url == detail_url(approval)
    assert messages_of(refused) == ["Say why it is rejected: the agent's record keeps the reason."]
    assert refreshed(approval).status == "pending"

    response = operator_client.post(
        reverse("approvals:reject", args=[approval.pk]), {"reason": "Wrong recipient"}
    )

    assert response.url == LIST
    approval = refreshed(approval)
    assert (approval.status, approval.decided_by, approval.reject_reason) == (
        "rejected",
        operator,
        "Wrong recipient",
    )
    assert (approval.action.status, approval.action.decision_reason) == ("rejected", "Wrong recipient")


@pytest.mark.django_db
def test_batch_approve_decides_each_and_reports_the_one_already_decided(operator_client, operator):
    first, second, decided = (approval_of(waiting_email(operator, key=f"k{n}")) for n in range(3))
    approvals.approval_reject(approval=decided, by=operator, reason="Earlier")

    response = operator_client.post(
        reverse("approvals:batch"), {"ids": [first.pk, second.pk, decided.pk], "decision": "approve"}
    )

    assert response.url == LIST
    assert messages_of(response) == [
        "Approved 2 requests.",
        f"Request #{decided.pk}: This request is already rejected.",
    ]
    assert [refreshed(a).status for a in (first, second, decided)] == ["approved", "approved", "rejected"]
    assert [refreshed(a).decided_by for a in (first, second)] == [operator, operator]
    assert refreshed(decided).reject_reason == "Earlier"
    assert set(Task.objects.filter(approvals__in=[first, second]).values_list("status", flat=True)) == {
        "queued"
    }


@pytest.mark.django_db
def test_batch_reject_needs_a_reason_and_a_selection(operator_client, operator):
    one, two = pending_approvals(2)
    batch = reverse("approvals:batch")

    no_reason = operator_client.post(
        batch, {"ids": [one.pk, two.pk], "decision": "reject", "reason": ""}, follow=True
    )
    assert messages_of(no_reason) == ["Say why they are rejected."]
    nothing = operator_client.post(batch, {"decision": "approve"}, follow=True)
    assert messages_of(nothing) == ["Select at least one request first."]
    assert set(ApprovalRequest.objects.values_list("status", flat=True)) == {"pending"}

    done = operator_client.post(
        batch, {"ids": [one.pk, two.pk], "decision": "reject", "reason": "Duplicates"}
    )
    assert messages_of(done) == ["Rejected 2 requests."]
    assert (
        list(ApprovalRequest.objects.values_list("status", "reject_reason", "decided_by"))
        == [("rejected", "Duplicates", operator.pk)] * 2
    )
    assert set(Action.objects.values_list("status", flat=True)) == {"rejected"}


# --- API ---------------------------------------------------------------------------------------


@pytest.fixture
def api(operator):
    _, raw = core_services.api_token_create(user=operator, name="tests")
    return HttpClient(headers={"Authorization": f"Bearer {raw}"})


def post(api, path, data=None):
    return api.post(path, data if data is not None else {}, content_type="application/json")


@pytest.mark.django_db
def test_the_api_needs_credentials(client):
    approval = pending_approvals(1)[0]
    assert client.get("/api/v1/approvals").status_code == 401
    assert client.get(f"/api/v1/approvals/{approval.pk}").status_code == 401
    assert post(client, f"/api/v1/approvals/{approval.pk}/approve").status_code == 401
    assert post(client, "/api/v1/approvals/approve", {"ids": [approval.pk]}).status_code == 401
    assert refreshed(approval).status == "pending"


@pytest.mark.django_db
def test_the_api_lists_and_reads_requests(api):
    approval = pending_approval()
    pending_approvals(2, with_source=False)

    listed = api.get("/api/v1/approvals", {"limit": 2})
    assert listed.status_code == 200
    assert listed.json()["count"] == 3 and len(listed.json()["items"]) == 2
    row = listed.json()["items"][0]
    assert (row["id"], row["status"], row["floors"], row["action"]["kind"]) == (
        approval.pk,
        "pending",
        ["new_recipient"],
        "email.send",
    )
    assert api.get("/api/v1/approvals", {"status": "approved"}).json()["count"] == 0
    assert api.get("/api/v1/approvals", {"status": "bogus"}).status_code == 422

    body = api.get(f"/api/v1/approvals/{approval.pk}").json()
    assert body["policies"] == [
        {"id": None, "name": "builtin:external-effects", "version": None, "kind": "builtin"}
    ]
    assert [(item["field"], item["confidence"]) for item in body["action"]["inferred"]] == [
        ("to", 0.97),
        ("subject", 0.81),
        ("amount", 0.6),
    ]
    assert body["action"]["source"]["id"] == 12 and body["action"]["payload"]["to"] == [ANNA]
    assert api.get("/api/v1/approvals/999999").status_code == 404


@pytest.mark.django_db
def test_the_api_approves_with_changes_and_refuses_twice(api, operator):
    approval = approval_of(waiting_email(operator))

    response = post(api, f"/api/v1/approvals/{approval.pk}/approve", {"changes": {"subject": "Edited"}})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decided_by"], body["edited"]) == ("approved", "operator", True)
    assert body["edit_diff"] == {"subject": {"before": "Your proposal", "after": "Edited"}}
    approval = refreshed(approval)
    assert approval.action.payload["subject"] == "Edited" and approval.action.status == "approved"

    again = post(api, f"/api/v1/approvals/{approval.pk}/approve")
    assert again.status_code == 422
    assert again.json()["detail"][0]["msg"] == "This request is already approved."
    assert post(api, "/api/v1/approvals/999999/approve").status_code == 404


@pytest.mark.django_db
def test_the_api_rejects_only_with_a_reason(api, operator):
    approval = approval_of(waiting_email(operator))

    assert post(api, f"/api/v1/approvals/{approval.pk}/reject").status_code == 422
    assert post(api, f"/api/v1/approvals/{approval.pk}/reject", {"reason": " "}).status_code == 422
    assert refreshed(approval).status == "pending"
    assert post(api, "/api/v1/approvals/999999/reject", {"reason": "x"}).status_code == 404

    response = post(api, f"/api/v1/approvals/{approval.pk}/reject", {"reason": "Not now"})

    assert response.status_code == 200
    approval = refreshed(approval)
    assert (approval.status, approval.reject_reason, approval.decided_by) == ("rejected", "Not now", operator)


@pytest.mark.django_db
def test_the_api_decides_batches(api, operator):
    one, two, three = pending_approvals(3)
    approvals.approval_approve(approval=three, by=operator)

    approved = post(api, "/api/v1/approvals/approve", {"ids": [one.pk, three.pk, 999999]})

    assert approved.status_code == 200
    assert approved.json() == {
        "done": [one.pk],
        "refused": {
            str(three.pk): "This request is already approved.",
            "999999": "No such approval request.",
        },
    }
    assert post(api, "/api/v1/approvals/reject", {"ids": [two.pk]}).status_code == 422
    assert post(api, "/api/v1/approvals/approve", {"ids": []}).status_code == 422
    rejected = post(api, "/api/v1/approvals/reject", {"ids": [two.pk], "reason": "Duplicate"})
    assert rejected.json() == {"done": [two.pk], "refused": {}}
    assert [refreshed(a).status for a in (one, two, three)] == ["approved", "rejected", "approved"]


@pytest.mark.django_db
def test_the_openapi_schema_lists_the_approval_endpoints(operator_client):
    schema = operator_client.get("/api/v1/openapi.json").json()
    paths = {path: set(methods) for path, methods in schema["paths"].items() if "/approvals" in path}
    assert paths == {
        "/api/v1/approvals": {"get"},
        "/api/v1/approvals/approve": {"post"},
        "/api/v1/approvals/reject": {"post"},
        "/api/v1/approvals/{approval_id}": {"get"},
        "/api/v1/approvals/{approval_id}/approve": {"post"},
        "/api/v1/approvals/{approval_id}/reject": {"post"},
    }
    assert schema["paths"]["/api/v1/approvals"]["get"]["tags"] == ["approvals"]
