"""The Inside view in headless Chromium: drawing lights up the hidden units and covers the
strokes with attributions, a first-layer unit shows its weights, the map's dots show their
image and are drawn whole, and the view fits phones and laptops (screenshots saved as the
layout tests do)."""

from __future__ import annotations

import json

import page_browser
import pytest
from page_browser import WIDTHS, assert_fits, page_at, screenshot

browser, url = page_browser.browser, page_browser.url  # its fixtures, one of each here
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("inside")]
CELL_COLOURS = "[...document.querySelectorAll('#inside-layers .unit')].map(c => c.style.background)"
HEAT_INK = """(() => {
  const heat = document.querySelector('#inside-heat').getContext('2d');
  const data = heat.getImageData(0, 0, 28, 28).data;
  return data.filter((value, index) => index % 4 === 3 && value > 0).length;
})()"""
MAP_INK = """(() => {
  const canvas = document.querySelector('#map'), width = canvas.width;
  const data = canvas.getContext('2d').getImageData(0, 0, width, canvas.height).data;
  const ink = { left: width, top: canvas.height, right: -1, bottom: -1, star: 0, first: null };
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    const x = (i / 4) % width, y = Math.floor(i / 4 / width);
    Object.assign(ink, { left: Math.min(ink.left, x), top: Math.min(ink.top, y),
                         right: Math.max(ink.right, x), bottom: Math.max(ink.bottom, y) });
    if (data[i] === 255 && data[i + 1] === 212 && data[i + 2] === 59) ink.star++;  // #ffd43b
    if (!ink.first) {
      const box = canvas.getBoundingClientRect(), ratio = width / canvas.clientWidth;
      ink.first = [box.left + canvas.clientLeft + (x + 0.5) / ratio,
                   box.top + canvas.clientTop + (y + 0.5) / ratio];
    }
  }
  return { ...ink, width, height: canvas.height };
})()"""


def open_inside(page) -> None:
    page.click("#tabs button[data-view=inside]")
    page.wait_for_selector("#map-legend span")


def stroke(page, start: tuple[float, float], end: tuple[float, float], steps: int = 15) -> None:
    box = page.locator("#inside-canvas").bounding_box()
    at = lambda fx, fy: (box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)  # noqa: E731
    page.mouse.move(*at(*start))
    page.mouse.down()
    for step in range(1, steps + 1):
        fraction = step / steps
        page.mouse.move(*at(*(a + (b - a) * fraction for a, b in zip(start, end, strict=True))))
    page.mouse.up()


def test_drawing_lights_up_units_and_covers_the_strokes(browser, url):
    with page_at(browser, url) as page:
        open_inside(page)
        assert page.evaluate(HEAT_INK) == 0
        stroke(page, (0.2, 0.2), (0.8, 0.3))
        page.wait_for_selector("#inside-layers .unit")
        page.wait_for_function(f"{HEAT_INK} > 0")
        before = page.evaluate(CELL_COLOURS)
        stroke(page, (0.5, 0.1), (0.5, 0.9))
        page.wait_for_function(
            f"JSON.stringify({CELL_COLOURS}) !== {json.dumps(json.dumps(before))}"
        )
        assert page.locator("#inside-verdict").text_content() != "draw something"


def test_hovering_a_first_layer_unit_shows_its_weights(browser, url):
    with page_at(browser, url) as page:
        open_inside(page)
        stroke(page, (0.3, 0.2), (0.6, 0.8))
        page.locator("#inside-layers .unit.first").nth(2).hover()
        page.wait_for_selector("#unit-info canvas.weight")
        assert "unit 2" in page.locator("#unit-info").text_content()
        assert "your drawing" in page.locator("#unit-info").text_content()


def test_hovering_a_dot_on_the_map_shows_its_image(browser, url):
    with page_at(browser, url) as page:
        open_inside(page)
        page.mouse.move(*page.evaluate(MAP_INK)["first"])  # a pixel of the topmost dot
        page.wait_for_selector("#map-tip img")
        assert "predicted" in page.locator("#map-tip").text_content()


def test_the_maps_dots_and_star_are_drawn_whole_inside_its_edges(browser, url):
    """The map's outermost dots (its points span the unit square) and the drawing's star are
    not cut by the canvas's edges, on a phone."""
    with page_at(browser, url, "390") as page:
        open_inside(page)
        stroke(page, (0.3, 0.2), (0.6, 0.8))
        page.wait_for_function(f"{MAP_INK}.star > 0")
        ink = page.evaluate(MAP_INK)
        assert min(ink["left"], ink["top"]) > 0, ink
        assert ink["right"] < ink["width"] - 1 and ink["bottom"] < ink["height"] - 1, ink


# The run's class names arrive after its map (or 3 s on): the order that left the legend empty.
METRICS_AFTER_MAP = """(() => {
  const realFetch = window.fetch;
  let mapArrived;
  const map = new Promise((resolve) => { mapArrived = resolve; setTimeout(resolve, 3000); });
  window.fetch = async (url, ...rest) => {
    if (String(url).endsWith("/metrics")) await map;
    const response = await realFetch(url, ...rest);
    if (String(url).endsWith("/inside/map")) mapArrived();
    return response;
  };
})()"""


def test_the_maps_legend_names_the_classes_when_they_arrive_after_the_map(browser, url):
    """Opening Inside while the page is still starting: the map must not be drawn with the
    class names of no run (an empty legend, seen once in CI)."""
    viewport_width, height = WIDTHS["1366"]
    page = browser.new_page(viewport={"width": viewport_width, "height": height})
    try:
        page.add_init_script(METRICS_AFTER_MAP)
        page.goto(url)
        page.wait_for_selector("#run option", state="attached")
        page.click("#tabs button[data-view=inside]")
        page.wait_for_selector("#map-legend span", timeout=15_000)
        assert page.locator("#map-legend span").count() == 10
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_inside_view_fits_the_window(browser, url, width):
    with page_at(browser, url, width) as page:
        open_inside(page)
        stroke(page, (0.3, 0.2), (0.6, 0.8))
        page.wait_for_selector("#inside-layers .unit")
        screenshot(page, f"inside-{width}")
        assert_fits(page, "the Inside view")
