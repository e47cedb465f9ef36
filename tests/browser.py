"""Headless Chromium for the browser tests: Debian's package (`make browser` installs it; `make test` runs
that first), driven by Playwright without its own browser downloads. Without it these tests fail rather
than skip."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings


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
