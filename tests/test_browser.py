"""Real-browser smoke test: ``streamlit run`` on a free port, Debian's Chromium via Playwright.

Skipped when no ``chromium`` is on PATH, unless ``RNN_EXPLORER_REQUIRE_BROWSER=1`` (set by
``.ci/run``), in which case a missing browser fails the run.
"""

import os
from pathlib import Path

import pytest
from browser import *  # noqa: F403  (fixtures: server, page; wait_idle; skips without chromium)
from browser import ROOT, settled
from browser import wait_idle as _wait_idle

PAGES = {"": "Cell & parameters", "step_through": "Step through", "train": "Train"}


@pytest.mark.parametrize("path,title", PAGES.items())
def test_page_opens_without_exception(server, page, path, title):
    page.goto(f"{server}/{path}")
    _wait_idle(page)
    assert page.get_by_role("heading", level=1).first.is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    if path != "train":
        page.locator(".js-plotly-plot").first.wait_for(state="visible", timeout=30_000)
    shots = os.environ.get("RNN_EXPLORER_SCREENSHOTS")
    if shots:
        page.screenshot(path=str(Path(shots) / f"{path or 'cell'}.png"), full_page=True)


def _step_counter(page) -> int:
    text = page.locator("h4").filter(has_text="t = ").first.inner_text()  # "t = 3 of 59 · …"
    return int(text.split("t = ")[1].split()[0])


def test_step_through_plays_and_a_bar_click_selects_a_unit(server, page):
    page.goto(f"{server}/step_through")
    _wait_idle(page)
    assert _step_counter(page) == 1  # t counts 1…T
    page.get_by_role("button", name="Play").click()
    # playing advances the step on its own (how fast depends on the machine's load)
    page.wait_for_function(
        "() => [...document.querySelectorAll('h4')].some(h => /t = ([3-9]|[1-9][0-9])\\b/.test(h.innerText))",
        timeout=30_000,
    )
    assert _step_counter(page) >= 3
    page.get_by_role("button", name="Pause").click()
    # a frame already in flight when the toggle went off may still arrive (late on a loaded
    # machine); after that the counter must stay put
    _wait_idle(page)
    paused = settled(page, _step_counter)
    page.wait_for_timeout(2000)
    assert _step_counter(page) == paused
    assert page.get_by_role("button", name="Play").is_visible()  # paused
    # click the bar of unit 5 in the "values at step t" chart (trace 2: input gate i_t, > 0)
    chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text="Values at step")
    bar = chart.locator(".barlayer .trace").nth(2).locator(".point").nth(5)
    bar.scroll_into_view_if_needed()
    bar.click(force=True)
    _wait_idle(page)
    page.wait_for_timeout(800)
    assert page.get_by_text("Unit 5, layer 0").count() > 0
    assert page.locator("[data-testid='stException']").count() == 0


def test_csv_upload_good_and_bad(server, page):
    page.goto(f"{server}/step_through")
    _wait_idle(page)
    page.get_by_role("button", name="Input sequence").click()  # its settings' popover
    page.locator("[data-testid='stButtonGroup']").get_by_text("Your CSV", exact=True).click()
    _wait_idle(page)
    uploader = page.locator("[data-testid='stFileUploader'] input[type='file']")
    uploader.set_input_files(str(ROOT / "tests" / "data" / "semicolon_decimal_comma_bom.csv"))
    _wait_idle(page)
    page.wait_for_timeout(1000)
    assert page.get_by_text("This input cannot be used").count() == 0
    assert page.get_by_text("semicolon_decimal_comma_bom.csv").count() > 0  # named in the caption
    page.locator(".js-plotly-plot").first.wait_for(state="visible", timeout=30_000)
    uploader.set_input_files(str(ROOT / "tests" / "data" / "no_numeric.csv"))
    _wait_idle(page)
    page.wait_for_timeout(1000)
    assert page.get_by_text("This input cannot be used").count() > 0
    assert page.get_by_text("no numeric column").count() > 0
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("Cell type").count() > 0  # the sidebar is intact


def test_link_opens_the_same_cell(server, page):
    page.goto(f"{server}/?cell=gru&input_size=3&hidden_size=7")
    _wait_idle(page)
    metric = page.locator("[data-testid='stMetricValue']").first
    assert metric.inner_text() == "252"
    assert "cell=gru" in page.url  # the link keeps saying what it shows
