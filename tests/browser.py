"""Headless Chromium for the browser tests: Debian's package (`make browser` installs it; `make test` runs
that first), driven by Playwright without its own browser downloads. Without it these tests fail rather
than skip."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

PHONE = {"width": 375, "height": 667}
TAP = 44  # px: the smallest target a thumb hits reliably
PASSWORD = "correct horse battery staple"  # the operator factory's


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("AIOS_TEST_ARTIFACTS") or settings.BASE_DIR / "var" / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium")
    if executable is None:
        # Not a skip: a suite that silently drops its browser tests would pass without checking the pages.
        pytest.fail("chromium is missing: run `make browser` (as root) or apt-get install chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between its
    # calls are ordinary synchronous ones, which Django would otherwise refuse next to a running loop.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@contextmanager
def phone_signed_in(browser, base_url: str, operator, *, start: str) -> Iterator:
    """A phone-sized page signed in as `operator` through the real login form, on `start` (a path that
    must send an anonymous visitor to sign in first)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base_url}{start}")
    assert "/accounts/login/" in page.url, "an anonymous visitor must be sent to sign in"
    page.fill('input[name="login"]', operator.email)
    page.fill('input[name="password"]', PASSWORD)
    page.click('form[action^="/accounts/login/"] button[type="submit"]')
    page.wait_for_url(f"{base_url}{start}")
    try:
        yield page
    finally:
        context.close()


def screenshot(page, name: str) -> None:
    """A full-page screenshot into artifacts_dir(), from the top: a sticky bar would otherwise be drawn where
    the page was scrolled to."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts_dir() / f"{name}.png"), full_page=True)


def assert_fits_the_phone(page, *tap_selectors: str) -> None:
    """Nothing scrolls sideways, the text is readable, and every `tap_selectors` target is big enough to tap
    and on the screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} scrolls sideways: {width}px wide"
    font = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 16
    assert page.locator('meta[name="viewport"]').count() == 1
    for selector in tap_selectors:
        targets = page.locator(selector)
        assert targets.count() > 0, f"no {selector} on {page.url}"
        for index in range(targets.count()):
            box = targets.nth(index).bounding_box()
            assert box is not None and box["height"] >= TAP, f"{selector} is {box} on {page.url}"
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{selector} overflows: {box}"
