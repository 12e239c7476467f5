"""The page at phone (360, 390 px) and desktop (1366 px) widths in headless Chromium: no view,
nor two runs compared, nor a finished training's charts, is wider than the window or has an
element sticking out of it; the gallery comes into view on a phone, is paged and its tiles open,
the first stroke sends ink, a photo's verdict stays on one line. Screenshots of every view are
saved under $FASHION_MLP_SCREENSHOTS (default: a temporary folder) to be looked at."""

from __future__ import annotations

import json
import time
import urllib.request

import page_browser
import pytest
from page_browser import (
    BEST,
    UNTRAINED,
    WIDTHS,
    assert_fits,
    page_at,
    screenshot,
)

browser, url = page_browser.browser, page_browser.url  # its fixtures, one of each here
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("page-layout")]  # one server
COMPARED = (BEST, "20261129-150000-ensemble-3")  # a plain run and an ensemble
TRAINED_EPOCHS = 2
VIEW_READY = {  # what each view shows once it has loaded
    "predict": "#draw-bars .fill",
    "test": "#gallery .tile img",
    "runs": "#runs-table tbody tr",
    "train": "#train-form button[type=submit]",
}


def draw(page, strokes: int = 20) -> None:
    box = page.locator("#canvas").bounding_box()
    x, y = box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.45
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(strokes):
        page.mouse.move(x + step * box["width"] * 0.03, y + (step % 2))
    page.mouse.up()


def add_photo(page, tmp_path) -> None:
    from serve_fixtures import photo_bytes

    photo = tmp_path / "a-photo-with-a-rather-long-file-name-from-a-phone-IMG_20261129.png"
    photo.write_bytes(photo_bytes())
    page.set_input_files("#files", str(photo))
    page.locator(".photo[data-predicted]").wait_for()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_view_fits_the_window(browser, url, width, tmp_path):
    with page_at(browser, url, width) as page:
        draw(page)
        add_photo(page, tmp_path)
        for view, ready in VIEW_READY.items():
            page.click(f"#tabs button[data-view={view}]")
            page.wait_for_selector(ready)
            if view == "test":
                page.wait_for_function(
                    "[...document.querySelectorAll('#gallery img')].every(i => i.complete)"
                )
            screenshot(page, f"{view}-{width}")
            assert_fits(page, f"the {view} view")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_photo_verdict_stays_on_one_line(browser, url, width, tmp_path):
    with page_at(browser, url, width) as page:
        add_photo(page, tmp_path)
        lines = page.eval_on_selector(
            ".photo [data-predicted] .verdict, .photo .verdict",
            "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)",
        )
        assert lines < 1.5


def test_a_confusion_cell_brings_its_gallery_into_view_on_a_phone(browser, url):
    with page_at(browser, url, "390") as page:
        page.click("#tabs button[data-view=test]")
        page.wait_for_selector("#gallery .tile")
        page.evaluate("window.scrollTo(0, 0)")
        page.click("table.confusion td[data-true='1'][data-predicted='1']")
        page.wait_for_function(
            "document.querySelector('#gallery-title').textContent.includes('True')"
        )
        page.wait_for_function(  # the gallery's top is on screen
            "(() => { const top = document.querySelector('#gallery-card')"
            ".getBoundingClientRect().top; return top >= 0 && top < innerHeight / 2; })()"
        )
        screenshot(page, "test-cell-390")


def test_the_gallery_is_paged_and_a_tile_opens(browser, url):
    with page_at(browser, url, "390") as page:
        page.select_option("#run", UNTRAINED)
        page.click("#tabs button[data-view=test]")
        page.wait_for_selector("#gallery-pager:not([hidden])")
        total = int(page.inner_text("#gallery-range").split(" of ")[1])
        assert total > 48 and page.inner_text("#gallery-range").startswith("1–48 of")
        first = page.locator("#gallery .tile").first.get_attribute("aria-label")
        assert page.locator("#gallery .tile").count() == 48 and page.is_disabled(
            "#gallery-previous"
        )
        page.click("#gallery-next")
        page.wait_for_function(
            "document.querySelector('#gallery-range').textContent.startsWith('49')"
        )
        assert page.locator("#gallery .tile").first.get_attribute("aria-label") != first
        page.locator("#gallery .tile").first.click()
        page.wait_for_selector("#image-dialog[open] #image-bars .fill")
        assert page.locator("#image-bars .fill").count() == 10
        assert "Test image #" in page.inner_text("#image-title")
        screenshot(page, "test-tile-open-390")
        assert_fits(page, "the opened tile")
        page.click("#image-close")
        page.wait_for_selector("#image-dialog", state="hidden")


def test_the_first_stroke_sends_ink_not_a_blank_image(browser, url):
    with page_at(browser, url, "1366") as page:
        statuses: list[int] = []
        page.on(
            "response",
            lambda response: "/predict" in response.url and statuses.append(response.status),
        )
        draw(page, strokes=3)
        page.wait_for_function("document.querySelectorAll('#draw-bars .fill').length === 10")
        assert statuses and set(statuses) == {200}, statuses


@pytest.mark.parametrize("width", WIDTHS)
def test_two_runs_compared_fit_the_window(browser, url, width):
    with page_at(browser, url, width) as page:
        page.click("#tabs button[data-view=runs]")
        for name in COMPARED:
            page.check(f"#runs-table tr[data-run='{name}'] input[type=checkbox]")
        page.click("#compare-button")
        page.wait_for_selector("#compare:not([hidden]) #compare-chart circle")
        screenshot(page, f"compare-{width}")
        assert_fits(page, "the Compare panel")


@pytest.fixture(scope="module")
def finished_training(url):
    """A short training through the server, finished; the Train view replays its events. It adds
    a run, so the tests that use it come last."""
    overrides = {"training": {"epochs": TRAINED_EPOCHS}}
    body = {"preset": "smoke", "name": "layout", "overrides": overrides}
    request = urllib.request.Request(
        f"{url}api/trainings", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        job = json.load(response)
    deadline = time.monotonic() + 90
    while job["status"] not in ("finished", "failed", "cancelled"):
        assert time.monotonic() < deadline, "the training did not finish"
        time.sleep(0.2)
        with urllib.request.urlopen(f"{url}api/trainings/{job['id']}") as response:
            job = json.load(response)
    assert job["status"] == "finished", job


@pytest.mark.usefixtures("finished_training")
@pytest.mark.parametrize("width", WIDTHS)
def test_the_train_view_with_its_charts_fits_the_window(browser, url, width):
    with page_at(browser, url, width) as page:
        page.click("#tabs button[data-view=train]")
        page.wait_for_function(  # train and validation, each epoch
            f"document.querySelectorAll('#accuracy-chart circle').length === {2 * TRAINED_EPOCHS}"
        )
        screenshot(page, f"train-charts-{width}")
        assert_fits(page, "the Train view with its charts")
