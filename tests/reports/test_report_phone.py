"""The self-contained pages (run, sweep and comparison reports) fit a phone: a wide table
scrolls inside its own box instead of widening the page."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fashion_mlp.reports.html import html_figure, html_page, html_table

CHROMIUM = os.environ.get("FASHION_MLP_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.browser


def phone_overflow(path: Path, width: int = 390) -> int:
    """How many pixels wider than a phone's screen the page at `path` is."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests must run under CI: no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": width, "height": 844})
        page.goto(path.as_uri())
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        browser.close()
    return overflow


def test_a_report_with_a_wide_table_fits_a_phone(tmp_path):
    headers = ["rank", "run", *(f"optimizer.setting_{i}" for i in range(12)), "val acc"]
    rows = [[1, "20261129-130000-learning-rate-sweep-trial-7", *range(12), 0.8765]]
    one_pixel_png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
    body = html_table(headers, rows) + html_figure(one_pixel_png, "a figure")
    path = tmp_path / "report.html"
    path.write_text(html_page("a sweep", body), encoding="utf-8")
    assert phone_overflow(path) <= 0
