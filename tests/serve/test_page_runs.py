"""Runs and trainings on the page, in headless Chromium: it opens on the best finished run, groups
sweep trials under their sweep, describes ensembles and unfinished runs, renames, tags, deletes
and picks the default run; the Train form sends dropout, schedule and weight decay, charts loss
and accuracy on round ticks, links to the finished run, and shows the last training after a
reload; a cancelled training is listed as cancelled."""

from __future__ import annotations

import itertools
import json
import re

import page_browser
import pytest
from page_browser import (
    BEST,
    SWEEP,
    page_at,
    screenshot,
)

browser, url = page_browser.browser, page_browser.url  # its fixtures, one of each here
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("page-runs")]  # one server
OLDEST = "20261129-090000-oldest"


def run_row(page, name: str):
    return page.locator(f"#runs-table tr[data-run='{name}']")


def test_the_page_opens_on_the_best_run_with_sweeps_grouped(browser, url):
    with page_at(browser, url) as page:
        assert page.input_value("#run") == BEST
        groups = page.eval_on_selector_all(
            "#run optgroup", "gs => gs.map(g => [g.label, g.querySelectorAll('option').length])"
        )
        assert [f"sweep {SWEEP}", 3] in groups and ["ensembles", 1] in groups
        page.select_option("#run", "20261129-150000-ensemble-3")
        assert page.inner_text("#run-info") == "ensemble of 3 runs"
        page.click("#tabs button[data-view=runs]")
        unfinished = page.locator("#runs-table tr:has-text('unfinished')")
        assert "0 of 30" in unfinished.inner_text()
        assert run_row(page, "20261129-130001-lr-1").inner_text().count(SWEEP) == 1


def test_rename_tag_and_pick_the_default_run(browser, url):
    with page_at(browser, url) as page:
        page.click("#tabs button[data-view=runs]")
        row = run_row(page, OLDEST)
        page.once("dialog", lambda dialog: dialog.accept("My first model"))
        row.locator("[data-action=rename]").click()
        page.wait_for_function(
            "document.querySelector('#runs-table').textContent.includes('My first model')"
        )
        page.once("dialog", lambda dialog: dialog.accept("keep, paper v2"))
        run_row(page, OLDEST).locator("[data-action=tags]").click()
        page.wait_for_selector(f"#runs-table tr[data-run='{OLDEST}'] .tag")
        assert run_row(page, OLDEST).locator(".tag").all_inner_texts() == ["keep", "paper v2"]
        run_row(page, OLDEST).locator("[data-action=default]").click()
        page.wait_for_selector(f"#runs-table tr[data-run='{OLDEST}'] [aria-pressed=true]")
        screenshot(page, "runs-renamed-1366")
    with page_at(browser, url, "390") as page:  # a reload opens on the default run
        assert page.input_value("#run") == OLDEST
        assert (
            page.locator(f"#run option[value='{OLDEST}']")
            .inner_text()
            .startswith("★ My first model")
        )
        page.click("#tabs button[data-view=runs]")
        run_row(page, OLDEST).locator("[data-action=default]").click()
        page.wait_for_selector(f"#runs-table tr[data-run='{OLDEST}'] [aria-pressed=false]")


def test_delete_asks_first(browser, url):
    doomed = "20261129-140000-newest-smoke"
    with page_at(browser, url) as page:
        page.click("#tabs button[data-view=runs]")
        page.once("dialog", lambda dialog: dialog.dismiss())
        run_row(page, doomed).locator("[data-action=delete]").click()
        assert run_row(page, doomed).count() == 1
        messages: list[str] = []
        page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
        run_row(page, doomed).locator("[data-action=delete]").click()
        run_row(page, doomed).wait_for(state="detached")
        assert "cannot be undone" in messages[0]
        assert page.locator(f"#run option[value='{doomed}']").count() == 0


def tick_labels(page, chart: str) -> list[str]:
    return page.locator(f"{chart} text.tick").all_text_contents()


def test_the_train_form_charts_loss_and_accuracy_and_links_the_run(browser, url):
    with page_at(browser, url) as page:
        page.click("#tabs button[data-view=train]")
        page.fill("input[name=name]", "form")
        page.fill("input[name=epochs]", "3")
        page.fill("input[name=dropout]", "0.1")
        page.select_option("select[name=schedule]", "cosine")
        page.select_option("select[name=optimizer]", "adamw")
        page.fill("input[name=weight_decay]", "0.0001")
        posted = lambda request: request.method == "POST" and request.url.endswith("/trainings")  # noqa: E731
        with page.expect_request(posted) as request:
            page.click("#train-form button[type=submit]")
        overrides = json.loads(request.value.post_data)["overrides"]
        assert overrides["model"] == {"dropout": 0.1}
        assert overrides["optimizer"] == {
            "optimizer": "adamw",
            "schedule": "cosine",
            "weight_decay": 0.0001,
        }
        page.wait_for_function(
            "document.querySelector('#job-status').textContent === 'finished'", timeout=90_000
        )
        assert page.locator("#loss-chart circle").count() == 6  # 3 epochs, train and validation
        assert page.locator("#accuracy-chart circle").count() == 6
        assert all(
            re.fullmatch(r"\d+(\.\d)? %", label) for label in tick_labels(page, "#accuracy-chart")
        )
        loss = tick_labels(page, "#loss-chart")
        assert all(re.fullmatch(r"\d+(\.\d\d?)?", label) for label in loss), loss
        assert len({round(float(b) - float(a), 9) for a, b in itertools.pairwise(loss)}) == 1
        screenshot(page, "train-finished-1366")
        page.click("#job-line a.use-run")
        page.wait_for_selector("#view-predict:not([hidden])")
        assert page.input_value("#run").endswith("-form")
    with page_at(browser, url, "390") as page:  # after a reload: the last training, not "none"
        page.click("#tabs button[data-view=train]")
        page.wait_for_function("document.querySelector('#job-status').textContent === 'finished'")
        assert "No training yet" not in page.inner_text("#view-train")
        # the list gives the status at once; the charts fill as its events replay
        page.wait_for_function("document.querySelectorAll('#accuracy-chart circle').length === 6")
        screenshot(page, "train-reloaded-390")


def test_a_cancelled_training_is_listed_as_cancelled(browser, url):
    with page_at(browser, url) as page:
        page.click("#tabs button[data-view=train]")
        page.fill("input[name=name]", "stopped")
        page.fill("input[name=epochs]", "500")
        page.click("#train-form button[type=submit]")
        page.wait_for_function(
            "document.querySelector('#job-line').textContent.includes('-stopped')"
        )
        page.wait_for_function("!document.querySelector('#cancel').disabled")
        page.click("#cancel")
        page.wait_for_function("document.querySelector('#job-status').textContent === 'cancelled'")
        assert "cancelled after" in page.inner_text("#job-line")
        page.click("#tabs button[data-view=runs]")
        row = page.locator("#runs-table tr:has-text('-stopped')")
        row.wait_for()
        assert "cancelled" in row.inner_text() and "of 500" in row.inner_text()
