"""Shared by the page's browser tests: the real server (uvicorn) on a loopback port over runs of
every kind, Chromium at phone and desktop widths, requests kept to loopback, overflow and
screenshots; the fixtures `browser` and `url` (imported by a test module, one of each per module).

Skipped when Chromium or Playwright is missing, except under CI (CI=true), where that fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("FASHION_MLP_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() == "true"
WIDTHS = {"360": (360, 740), "390": (390, 844), "1366": (1366, 900)}  # two phones, a laptop
SWEEP = "20261129-130000-learning-rate-sweep"
BEST = "20261129-100000-best"  # the highest test accuracy, not the newest run
UNTRAINED = "20261129-080000-untrained"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


def require_browser() -> None:
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        problem = f"Playwright or uvicorn is not installed ({error})"
    if problem is None and not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        problem = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if problem and IN_CI:
        pytest.fail(f"browser tests must run under CI: {problem}")
    if problem:
        pytest.skip(problem)


def make_runs(root: Path) -> Path:
    """A runs folder: plain runs (the best is not the newest), a sweep's trials, an ensemble
    and an unfinished run with a long name; returns the data folder."""
    from serve_fixtures import copy_run, make_run, serve_dataset

    data = serve_dataset(root / "data")
    best = make_run(root / "runs", data, BEST)
    scores = {"20261129-140000-newest-smoke": 0.4, "20261129-090000-oldest": 0.5}
    scores |= {f"20261129-13000{i}-lr-{i}": 0.6 + i / 100 for i in range(3)}
    for name, accuracy in scores.items():
        run = copy_run(best, name, {})
        facts = {"test_accuracy": accuracy}
        if "-lr-" in name:
            facts |= {"population": {"sweep": f"/sweeps/{SWEEP}", "number": 0, "members": 3}}
        run.write_metrics(run.read_metrics() | facts)
    ensemble = copy_run(best, "20261129-150000-ensemble-3", {})
    members = [{"run": name, "test_accuracy": 0.6} for name in list(scores)[2:]]
    facts = {"engine": "ensemble", "ensemble": {"members": members}, "test_accuracy": 0.7}
    ensemble.write_metrics(ensemble.read_metrics() | facts)
    make_run(root / "runs", data, UNTRAINED, epochs=0)  # mistakes by the page-full
    long = "20261129-160000-mlp-512-256-128-relu-adamw-cosine-dropout-0.2-unfinished"
    copy_run(best, long, {"training": {"epochs": 30}}).mark_unfinished()
    return data


@contextmanager
def serving(runs_dir: Path, data: Path | None = None) -> Iterator[str]:
    """The real server (uvicorn) on a free loopback port; yields its URL."""
    import uvicorn

    from fashion_mlp.serve import ServeSettings, create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = ServeSettings(runs_dir=runs_dir, data_name=data and str(data))
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def only_loopback(page) -> list[str]:
    """Abort the page's requests to anywhere but loopback at once, so nothing waits on the
    internet; returns the list the blocked URLs go into."""
    blocked: list[str] = []

    def route(request_route):
        if urlsplit(request_route.request.url).hostname in LOOPBACK:
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort("internetdisconnected")

    page.route("**/*", route)
    return blocked


@contextmanager
def page_at(browser, url: str, width: str = "1366") -> Iterator:
    """A page of the app at one of WIDTHS, failing the test on any JavaScript error."""
    viewport_width, height = WIDTHS[width]
    page = browser.new_page(viewport={"width": viewport_width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("#run option", state="attached")
    yield page
    page.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


STICKING_OUT = """(() => {
  const scrolls = (e) => ["auto", "scroll"].includes(getComputedStyle(e).overflowX);
  const inScrollBox = (e) => { for (let a = e.parentElement; a; a = a.parentElement)
    if (scrolls(a)) return true; return false; };
  const out = new Set([...document.body.querySelectorAll("*")].filter((e) => {
    const box = e.getBoundingClientRect();
    return box.width > 0 && (box.left < -0.5 || box.right > innerWidth + 0.5) && !inScrollBox(e);
  }));
  return [...out].filter((e) => !out.has(e.parentElement))  // the outermost of each
    .map((e) => { const box = e.getBoundingClientRect();
      return `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}`
        + `${e.classList.length ? "." + [...e.classList].join(".") : ""}`
        + ` ${Math.round(box.left)}..${Math.round(box.right)}`; });
})()"""


def overflow(page) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def assert_fits(page, what: str) -> None:
    """The page is no wider than the window, and no element sticks out of it except inside a
    box that scrolls sideways (a wide table in its `.scroll`); cut-off content counts too."""
    width = page.evaluate("innerWidth")
    assert overflow(page) <= 0, f"{what} is wider than {width} px"
    outside = page.evaluate(STICKING_OUT)
    assert not outside, f"{what}: elements stick out of the {width} px window: {outside}"


def screenshot(page, name: str) -> Path:
    folder = Path(
        os.environ.get("FASHION_MLP_SCREENSHOTS")
        or Path(tempfile.gettempdir()) / "fashion-mlp-screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, one per test module."""
    require_browser()
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    """The page's address on a server over `make_runs`'s runs, one per test module."""
    require_browser()
    root = tmp_path_factory.mktemp("page")
    with serving(root / "runs", make_runs(root)) as address:
        yield address
