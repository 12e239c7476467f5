"""/docs renders with the network blocked in Chromium: Swagger UI's files are served by the
server itself, not fetched from a CDN."""

from __future__ import annotations

import pytest
from page_browser import chromium, only_loopback, require_browser, screenshot, serving

pytestmark = pytest.mark.browser


@pytest.fixture
def offline_page(tmp_path_factory):
    """A page whose requests anywhere but loopback are aborted; yields (page, url, blocked)."""
    require_browser()
    with serving(tmp_path_factory.mktemp("docs") / "runs") as url, chromium() as browser:
        page = browser.new_page()
        yield page, url, only_loopback(page)
        page.close()


def test_swagger_ui_renders_offline(offline_page):
    page, url, blocked = offline_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{url}docs")
    page.wait_for_selector(".swagger-ui .opblock-summary-path")
    assert "/api/runs/{run_id}/predict" in page.inner_text(".swagger-ui")
    assert not errors and not blocked, (errors, blocked)
    screenshot(page, "docs-offline")
