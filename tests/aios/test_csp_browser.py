"""The Content-Security-Policy in a real headless Chromium (ADR 0010): the sign-in page, the overview, the
approval pages at phone size, the task pages, the tokens page, the back office (lists, forms, history,
the policy editor, memory search), two-factor and the API docs load with no `securitypolicyviolation`
event, no console error and no page error — and the listener does catch a violation when there is one."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from core import services
from tests.factories import ClientFactory, InvoiceFactory, OperatorFactory
from tests.ledger.approval_states import pending_approval
from tests.ledger.states import waiting_email

PASSWORD = "correct horse battery staple"

# Installed before any page script: every violation is kept on the window, with what was blocked.
COLLECT = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` (${event.sourceFile || ""}:${event.lineNumber || ""} ${event.sample || ""})`);
});
"""


@pytest.fixture
def operator(transactional_db):
    cache.clear()  # sign-in limits live in the database cache
    return OperatorFactory()


class Watched:
    """A browser page that records CSP violations, console errors and uncaught errors."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        page.add_init_script(COLLECT)
        page.on("console", lambda message: self._console(message))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if message.type == "error":
            source = message.location.get("url", "")
            self.problems.append(f"console on {self.page.url}: {message.text} {source}")

    def visit(self, url: str, *, expect_status: int = 200) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == expect_status, (url, response and response.status)
        assert "Content-Security-Policy" in {name.title() for name in response.headers}, url
        self.page.wait_for_load_state("networkidle")
        self.collect(url)

    def collect(self, where: str) -> None:
        for violation in self.page.evaluate("window.__cspViolations.splice(0)"):
            self.problems.append(f"{where}: CSP {violation}")


def _sign_in(watched: Watched, base: str, operator) -> None:
    watched.visit(f"{base}/accounts/login/")
    watched.page.fill('input[name="login"]', operator.email)
    watched.page.fill('input[name="password"]', PASSWORD)
    watched.page.click('form[action^="/accounts/login/"] button[type="submit"]')
    watched.page.wait_for_url(f"{base}/")
    watched.collect("after sign-in")


def test_the_pages_run_under_the_policy_without_violations(browser, live_server, operator):
    services.workspace_configure(
        by=operator,
        name="Test Studio",
        operator_name="Test Operator",
        operator_email="operator@example.com",
        invoice_prefix="TS",
        default_currency="EUR",
        payment_terms_days=30,
    )
    client = ClientFactory(name="Berg Bakery AB", status="active")
    invoice = InvoiceFactory(client=client)
    approval = pending_approval()
    task = waiting_email(operator)
    base = live_server.url

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page())
    watched.page.set_default_timeout(20_000)
    _sign_in(watched, base, operator)
    pages = [
        "/",
        "/tasks/",
        f"/tasks/{task.pk}/",
        "/tokens/",
        "/admin/",
        "/admin/core/client/",
        f"/admin/core/client/{client.pk}/change/",
        f"/admin/core/client/{client.pk}/history/",
        "/admin/core/invoice/",
        f"/admin/core/invoice/{invoice.pk}/change/",
        "/admin/core/client/add/",
        "/admin/ledger/policy/",
        "/admin/ledger/policy/add/",
        "/admin/ledger/policy/add/?kind=approval",
        "/admin/core/memoryitem/search/?q=invoice",
        "/admin/ledger/registry/",
        "/accounts/2fa/",
        "/accounts/password/change/",
        "/api/v1/docs",
    ]
    for path in pages:
        watched.visit(f"{base}{path}")
    # Swagger UI renders the document it fetched: the operations are on the page, not an error.
    watched.page.wait_for_selector(".opblock", timeout=20_000)
    watched.collect("/api/v1/docs")
    context.close()

    # The approval pages on a phone, including the "select all" script.
    phone_context = browser.new_context(
        viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
    )
    phone = Watched(phone_context.new_page())
    phone.page.set_default_timeout(20_000)
    _sign_in(phone, base, operator)
    phone.visit(f"{base}/approvals/")
    phone.page.check("[data-select-all]")
    assert phone.page.locator('input[name="ids"]:checked').count() == 2
    phone.visit(f"{base}/approvals/{approval.pk}/")
    phone.page.click(".edit summary")
    phone.collect("approval detail")
    phone_context.close()

    assert watched.problems == [] and phone.problems == []


def test_the_listener_catches_a_violation(browser, live_server):
    """The check above would see a blocked inline script: the same page with one injected is reported."""
    context = browser.new_context()
    watched = Watched(context.new_page())
    watched.visit(f"{live_server.url}/accounts/login/")

    watched.page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1";
        document.body.appendChild(s); }"""
    )
    watched.page.wait_for_timeout(200)
    watched.collect("injected")
    ran = watched.page.evaluate("window.__ran")
    context.close()

    assert ran is None
    assert any("script-src" in problem and "inline" in problem for problem in watched.problems), (
        watched.problems
    )
