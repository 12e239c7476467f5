"""The web page in headless Chromium (Playwright, Debian's `chromium`) against the real server
on 127.0.0.1: draw, upload, browse the test set, compare runs, train. Each view is saved as a
screenshot under $FASHION_MLP_SCREENSHOTS (default: a temporary folder) to be looked at.

Skipped when Chromium or Playwright is missing, except under CI (CI=true), where that fails.
"""

from __future__ import annotations

import httpx2
import page_browser
import pytest
from page_browser import require_browser, screenshot, serving

browser = page_browser.browser  # a fixture: Chromium for this module
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("serve-browser")]  # one server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real server (uvicorn) on a free loopback port, over one finished run."""
    require_browser()
    from serve_fixtures import copy_run, make_run, serve_dataset

    root = tmp_path_factory.mktemp("browser")
    data_folder = serve_dataset(root / "data")
    run = make_run(root / "runs", data_folder, "20261129-120000-first")
    copy_run(run, "20261129-110000-second", {"model": {"hidden": [8]}, "training": {"seed": 1}})
    with serving(root / "runs", data_folder) as url:
        yield {"url": url, "root": root}


@pytest.fixture
def page(browser, server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server["url"])
    page.wait_for_selector("#run option", state="attached")
    yield page
    page.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_drawing_shows_probability_bars_as_you_draw(page):
    canvas = page.locator("#canvas").bounding_box()
    x, y = canvas["x"], canvas["y"]
    page.mouse.move(x + 40, y + 120)
    page.mouse.down()
    for step in range(25):
        page.mouse.move(x + 40 + 8 * step, y + 120 + (step % 2))
    page.mouse.up()
    page.wait_for_function("document.querySelectorAll('#draw-bars .fill').length === 10")
    top = page.locator("#draw-top").inner_text()
    assert "%" in top and "draw something" not in top
    widths = page.eval_on_selector_all("#draw-bars .fill", "bars => bars.map(b => b.style.width)")
    assert sum(float(width.rstrip("%")) for width in widths) == pytest.approx(100, abs=1)
    screenshot(page, "predict-drawing")


def test_an_uploaded_photo_shows_its_class_and_what_the_model_saw(page, server, tmp_path):
    from serve_fixtures import photo_bytes

    photo = tmp_path / "band-photo.png"
    photo.write_bytes(photo_bytes())
    page.set_input_files("#files", str(photo))
    card = page.locator(".photo[data-predicted]")
    card.wait_for()
    predicted = card.get_attribute("data-predicted")
    url = f"{server['url']}api/runs/20261129-120000-first/predict"
    expected = httpx2.post(url, files={"files": photo.read_bytes()}).json()
    assert predicted == expected["results"][0]["top"][0]["class"]
    assert predicted in card.inner_text()
    lit = page.evaluate(
        "() => { const c = document.querySelector('.photo canvas').getContext('2d');"
        " return c.getImageData(0, 0, 28, 28).data.filter((v, i) => i % 4 === 0 && v > 0).length; }"
    )
    assert lit > 20  # the 28x28 the model saw is drawn beside the bars
    screenshot(page, "predict-photo")


def test_a_dropped_image_is_classified(page):
    page.evaluate(
        """async () => {
            const run = document.querySelector('#run').value;
            const png = await (await fetch(`/api/runs/${run}/test/images/0/png`)).blob();
            const transfer = new DataTransfer();
            transfer.items.add(new File([png], 'dropped.png', {type: 'image/png'}));
            const drop = document.querySelector('#drop');
            drop.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true}));
        }"""
    )
    card = page.locator(".photo[data-predicted]")
    card.wait_for()
    assert "dropped.png" in card.inner_text()


def wait_until_gallery_images_decode(page):
    """Wait until every gallery image has decoded, not just its tile laid out."""
    page.wait_for_function(
        "[...document.querySelectorAll('#gallery img')].every(i => i.complete && i.naturalWidth)"
    )


def test_clicking_a_confusion_matrix_cell_shows_its_images(page):
    page.click("#tabs button[data-view=test]")
    page.wait_for_selector("table.confusion td")
    page.wait_for_selector("#gallery .tile")
    wait_until_gallery_images_decode(page)
    screenshot(page, "test-set")
    cell = page.locator("table.confusion td[data-true='3'][data-predicted='3']")
    count = int(cell.inner_text())
    cell.click()
    page.wait_for_function("document.querySelector('#gallery-title').textContent.includes('True')")
    tiles = page.locator("#gallery .tile")
    tiles.first.wait_for()
    assert tiles.count() == min(count, 48)
    wait_until_gallery_images_decode(page)  # images decode after their tiles are laid out
    assert page.locator("#gallery img").first.evaluate("img => img.naturalWidth") == 28
    assert page.locator("#scores tbody tr").count() == 10


def test_the_runs_table_sorts_and_compares(page):
    page.click("#tabs button[data-view=runs]")
    page.wait_for_selector("#runs-table tbody tr")
    page.click("#runs-table th[data-key=name]")
    names = page.locator("#runs-table tbody tr td:nth-child(2)").all_inner_texts()
    assert names == sorted(names, reverse=True)
    page.click("#runs-table th[data-key=name]")
    assert page.locator("#runs-table tbody tr td:nth-child(2)").all_inner_texts() == sorted(names)
    for box in page.locator("#runs-table input[type=checkbox]").all():
        box.check()
    page.click("#compare-button")
    page.wait_for_selector("#compare-table table")
    assert "model.hidden" in page.locator("#compare-table").inner_text()
    assert page.locator("#compare-chart polyline").count() == 2
    screenshot(page, "runs")


def test_an_axis_of_equal_values_stays_near_them(page):
    """Runs whose validation accuracies are all 90 % once drew an axis from 40 to 140 %."""
    ticks = page.evaluate("async () => (await import('/static/charts.js')).niceTicks(0.9, 0.9)")
    assert 0.8 <= min(ticks["ticks"]) < 0.9 < max(ticks["ticks"]) <= 1.0, ticks
    zero = page.evaluate("async () => (await import('/static/charts.js')).niceTicks(0, 0)")
    assert min(zero["ticks"]) < 0 < max(zero["ticks"]) <= 0.05, zero
    percent = "async () => (await import('/static/charts.js')).niceTicks(1, 1, 4, {ceiling: 1})"
    full = page.evaluate(percent)
    assert 0.9 <= min(full["ticks"]) < max(full["ticks"]) == 1.0, full  # no 105 % accuracy


def test_a_training_started_from_the_form_updates_live_and_finishes(page):
    page.click("#tabs button[data-view=train]")
    page.select_option("#preset", "smoke")
    page.fill("input[name=name]", "browser")
    page.fill("input[name=epochs]", "3")
    page.click("#train-form button[type=submit]")
    page.wait_for_function("document.querySelector('#job-status').textContent === 'running'")
    page.wait_for_function(
        "document.querySelectorAll('#accuracy-chart circle').length >= 1", timeout=60_000
    )
    mid_line = page.locator("#job-line").inner_text()
    assert "epoch" in mid_line
    screenshot(page, "train-running")
    page.wait_for_function(
        "document.querySelector('#job-status').textContent === 'finished'", timeout=90_000
    )
    assert page.locator("#accuracy-chart circle").count() == 6  # 3 epochs x 2 curves
    assert "test accuracy" in page.locator("#job-line").inner_text()
    page.wait_for_function(
        "[...document.querySelectorAll('#run option')].some(o => o.value.endsWith('-browser'))"
    )
    screenshot(page, "train-finished")
