"""The Learn page in a real browser: every section's chart and equations are drawn, a widget
writes the URL, and that URL reproduces the view."""

import os
from pathlib import Path

from browser import *  # noqa: F403  (fixtures: server, page; wait_idle; skips without chromium)
from browser import wait_idle

SECTIONS = [
    "structure",
    "how-it-runs",
    "three-kinds",
    "counting-parameters",
    "where-rnns-are-used",
    "the-code",
]
CHARTS = 9  # two drawings of the network, gradients, three traces, memory, counts, code


def _no_exception(page):
    assert page.locator("[data-testid='stException']").count() == 0


def test_every_section_is_drawn(server, page):
    page.goto(f"{server}/learn")
    wait_idle(page)
    _no_exception(page)
    assert page.get_by_role("heading", level=1).first.inner_text().startswith("Learn")
    for anchor in SECTIONS:
        heading = page.locator(f"h2#{anchor}")
        heading.scroll_into_view_if_needed()
        assert heading.is_visible(), anchor
    charts = page.locator(".js-plotly-plot")
    charts.nth(CHARTS - 1).wait_for(state="attached", timeout=30_000)
    assert charts.count() == CHARTS
    for k in range(CHARTS):
        chart = charts.nth(k)
        chart.scroll_into_view_if_needed()
        chart.locator(".main-svg").first.wait_for(state="visible", timeout=30_000)
        box = chart.bounding_box()
        assert box["width"] > 250 and box["height"] > 200, k
    equations = page.locator(".katex-display")
    assert equations.count() > 20  # every section's equations were typeset by KaTeX
    equations.first.scroll_into_view_if_needed()
    assert equations.first.is_visible()
    assert page.locator(".katex-error").count() == 0  # no LaTeX KaTeX could not parse
    # the presets open on their pages
    hrefs = page.locator("a[data-testid='stPageLink-NavLink']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert "step_through?preset=forget_gate" in hrefs and "train?preset=temperature" in hrefs
    _no_exception(page)
    shots = os.environ.get("RNN_EXPLORER_SCREENSHOTS")
    if shots:
        page.screenshot(path=str(Path(shots) / "learn.png"), full_page=True)


def test_a_widget_writes_the_url_and_the_url_reproduces_the_view(server, page):
    page.goto(f"{server}/learn")
    wait_idle(page)
    group = page.locator("[data-testid='stButtonGroup']").filter(has_text="GRU")
    group.scroll_into_view_if_needed()
    group.get_by_text("LSTM", exact=True).click()
    page.wait_for_function("() => location.search.includes('learn_code_cell=LSTM')", timeout=30_000)
    wait_idle(page)
    assert page.get_by_text("def torch_lstm").count() > 0
    link = page.url
    page.goto(f"{server}/")  # somewhere else, then the link again, as a second viewer would
    wait_idle(page)
    page.goto(link)
    wait_idle(page)
    page.get_by_text("def torch_lstm").first.wait_for(state="attached", timeout=30_000)
    assert page.get_by_text("def torch_gru").count() == 0
    _no_exception(page)


def test_a_link_with_sizes_draws_that_network(server, page):
    page.goto(f"{server}/learn?learn_x=3&learn_h=4&learn_o=2&learn_T=6&learn_t=6")
    wait_idle(page)
    _no_exception(page)
    page.get_by_text("Step t = 6 of 6 (highlighted)").first.wait_for(timeout=30_000)
    assert page.get_by_text("Folded (left), and unrolled over T = 6 steps").count() > 0
    # the hand computation of step 6 ends on y_6, two numbers for O = 2
    assert page.locator(".katex").filter(has_text="y6").count() > 0
