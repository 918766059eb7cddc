"""Test helper: Debian's chromium driven by playwright (``playwright install`` is not used)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="Debian's chromium (/usr/bin/chromium) is not installed: apt-get install chromium")


@contextlib.contextmanager
def browser_page(url: str, ready: str, width: int = 1366, height: int = 900):
    """A chromium page on ``url``, loaded until the selector ``ready`` shows; closed afterwards.
    Yields (playwright.sync_api, page)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector(ready, timeout=30_000)
            yield sync_api, page
        finally:
            browser.close()
