"""The approval queue in a real headless Chromium at phone size (375×667): sign in through the login page,
approve one, batch-approve three, edit then approve, reject with a reason. Each test checks the records the
click left, that nothing scrolls sideways and that the main buttons are big enough to tap, and saves
full-page screenshots (var/test-artifacts/, or $AIOS_TEST_ARTIFACTS) to look at.

Chromium is Debian's package (`make browser` installs it, `make test` runs that first); without it
these tests fail rather than skip.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from ledger.models import ApprovalRequest
from tests.browser import PHONE, assert_fits_the_phone, phone_signed_in, screenshot
from tests.factories import OperatorFactory
from tests.ledger.approval_states import pending_approval
from tests.ledger.states import waiting_email


@pytest.fixture
def operator(transactional_db):
    # Sign-in rate limits live in the database cache, which a flush between tests does not empty.
    cache.clear()
    return OperatorFactory()


@pytest.fixture
def phone(browser, live_server, operator):
    """A phone-sized page signed in as the operator through the real login form, on the approval list."""
    with phone_signed_in(browser, live_server.url, operator, start="/approvals/") as page:
        yield page


def shoot(page, name: str) -> None:
    screenshot(page, f"approvals-{name}")


def refreshed(approval) -> ApprovalRequest:
    return ApprovalRequest.objects.select_related("action", "task", "decided_by").get(pk=approval.pk)


LIST_BUTTONS = ('button[value="approve"]', 'button[value="reject"]', ".tick", ".queue-title")
DETAIL_BUTTONS = (".decide-approve", ".edit summary", ".decide-reject", ".back")


def test_approve_one_request(phone, live_server, operator):
    rich = pending_approval()  # the oldest of two equally urgent requests: first in the queue
    other = ApprovalRequest.objects.get(task=waiting_email(operator, key="other"))
    phone.goto(f"{live_server.url}/approvals/")
    assert_fits_the_phone(phone, *LIST_BUTTONS)
    shoot(phone, "list")

    phone.click(f'a[href="/approvals/{rich.pk}/"]')
    phone.wait_for_url(f"**/approvals/{rich.pk}/")
    assert phone.locator(".source-text mark").count() == 3
    assert phone.locator('.source-text mark[title="subject"]').inner_text() == "<signed> proposal"
    assert phone.locator(".email-body").inner_text().startswith("Hello Anna,")
    assert_fits_the_phone(phone, *DETAIL_BUTTONS)
    shoot(phone, "detail")

    phone.click(".decide-approve")
    phone.wait_for_url(f"**/approvals/{other.pk}/")
    assert "Approved: " in phone.locator(".messages").inner_text()

    rich = refreshed(rich)
    assert (rich.status, rich.decided_by, rich.edited) == ("approved", operator, False)
    assert (rich.action.status, rich.action.decided_by, rich.task.status) == ("approved", operator, "queued")
    assert refreshed(other).status == "pending"


def test_batch_approve_three(phone, live_server, operator):
    waiting = [ApprovalRequest.objects.get(task=waiting_email(operator, key=f"batch-{n}")) for n in range(4)]
    chosen, left = waiting[:3], waiting[3]
    phone.goto(f"{live_server.url}/approvals/")
    # The optional "select all" (JavaScript) ticks every row and untick them again.
    phone.check("[data-select-all]")
    assert phone.locator('input[name="ids"]:checked').count() == 4
    phone.uncheck("[data-select-all]")
    assert phone.locator('input[name="ids"]:checked').count() == 0
    for approval in chosen:
        phone.check(f'input[name="ids"][value="{approval.pk}"]')
    assert_fits_the_phone(phone, *LIST_BUTTONS)
    shoot(phone, "list-selected")

    phone.click('button[value="approve"]')
    phone.wait_for_load_state()
    assert "Approved 3 requests." in phone.locator(".messages").inner_text()
    assert phone.locator('input[name="ids"]').count() == 1
    assert_fits_the_phone(phone, *LIST_BUTTONS)
    shoot(phone, "list-after-batch")

    for approval in chosen:
        approval = refreshed(approval)
        assert (approval.status, approval.decided_by, approval.action.status) == (
            "approved",
            operator,
            "approved",
        )
    assert refreshed(left).status == "pending" and refreshed(left).decided_by is None


def test_edit_then_approve(phone, live_server, operator):
    approval = ApprovalRequest.objects.get(task=waiting_email(operator))
    draft = dict(approval.action.payload)
    phone.goto(f"{live_server.url}/approvals/{approval.pk}/")
    phone.click(".edit summary")
    phone.fill("#edit-subject", "Your proposal, with the revised timeline")
    phone.fill(
        "#edit-body", "Hello,\n\nThe revised proposal is attached; the timeline moved by a week.\n\nSam"
    )
    assert_fits_the_phone(phone, *DETAIL_BUTTONS, ".decide-edit", "#edit-subject")
    shoot(phone, "edit")

    phone.click(".decide-edit")
    phone.wait_for_url(f"{live_server.url}/approvals/")
    assert "Edited and approved" in phone.locator(".messages").inner_text()

    approval = refreshed(approval)
    body = "Hello,\n\nThe revised proposal is attached; the timeline moved by a week.\n\nSam"
    assert approval.action.payload == {
        **draft,
        "subject": "Your proposal, with the revised timeline",
        "body": body,
    }
    assert (approval.status, approval.decided_by, approval.edited) == ("approved", operator, True)
    assert approval.edit_diff == {
        "subject": {"before": draft["subject"], "after": "Your proposal, with the revised timeline"},
        "body": {"before": draft["body"], "after": body},
    }
    assert approval.action.status == "approved"

    phone.goto(f"{live_server.url}/approvals/{approval.pk}/")
    assert "Edited before approving" in phone.locator(".outcome").inner_text()
    assert phone.locator(".decide-approve").count() == 0
    assert_fits_the_phone(phone, ".back")
    shoot(phone, "edited-outcome")


def test_reject_with_a_reason(phone, live_server, operator):
    approval = ApprovalRequest.objects.get(task=waiting_email(operator))
    phone.goto(f"{live_server.url}/approvals/{approval.pk}/")
    phone.fill("#reject-reason", "Wrong client: this proposal is for Vos & Partners.")
    phone.click(".decide-reject")
    phone.wait_for_url(f"{live_server.url}/approvals/")
    assert "Rejected: " in phone.locator(".messages").inner_text()
    assert "Nothing waits for you" in phone.content()
    shoot(phone, "list-empty")

    approval = refreshed(approval)
    reason = "Wrong client: this proposal is for Vos & Partners."
    assert (approval.status, approval.decided_by, approval.reject_reason) == ("rejected", operator, reason)
    assert (approval.action.status, approval.action.decision_reason) == ("rejected", reason)

    phone.goto(f"{live_server.url}/approvals/?status=rejected")
    assert phone.locator(".queue-item").count() == 1
    assert_fits_the_phone(phone, ".queue-title")
    shoot(phone, "list-rejected")
    phone.goto(f"{live_server.url}/approvals/{approval.pk}/")
    assert reason in phone.locator(".outcome").inner_text()
    assert phone.locator(".decide-reject").count() == 0
    assert_fits_the_phone(phone, ".back")
    shoot(phone, "rejected-outcome")


def test_an_invoice_to_send_shows_its_first_page_and_xml_fields_on_the_phone(phone, live_server, operator):
    from core import demo
    from core import services as core_services
    from ledger import services
    from tests.factories import ClientFactory, ContactFactory

    demo.demo_studio_configure(by=operator)
    client = ClientFactory(name="Berg Bakery AB", email="jonas@bergbakery.se")
    ContactFactory(client=client, name="Jonas Berg", email="jonas@bergbakery.se", is_primary=True)
    invoice = core_services.invoice_create(
        by=operator,
        client=client,
        currency="EUR",
        lines=[
            {"description": "Marketing website", "quantity": "6", "unit_price": "600.00", "tax_rate": "25"}
        ],
    )
    task = services.invoice_send_request(invoice=invoice, requested_by=operator)
    assert services.task_execute(task_id=task.pk) == "waiting-approval"
    approval = ApprovalRequest.objects.get(task=task)

    phone.goto(f"{live_server.url}/approvals/{approval.pk}/")
    image = phone.locator("img.invoice-page")
    image.scroll_into_view_if_needed()
    # (wait_for_function evaluates a string: the page's CSP forbids that, rightly; so poll from here.)
    for _ in range(100):
        if phone.evaluate("document.querySelector('img.invoice-page').naturalWidth"):
            break
        phone.wait_for_timeout(100)
    assert phone.evaluate("document.querySelector('img.invoice-page').naturalWidth") == 900
    box = image.bounding_box()
    assert box["width"] <= PHONE["width"]
    assert "urn:cen.eu:en16931:2017" in phone.locator(".xml-fields").inner_text()
    assert_fits_the_phone(phone, *DETAIL_BUTTONS)
    shoot(phone, "invoice")
