"""The first screen of every page at 1280 x 800, with and without presenter mode, in a real
browser: a chart (or, on Cell & parameters, the tensor table) shows at least 200 px above the
fold, and no chart's titles, legends and axis titles overlap, run off the chart or are cut short.

Boxes come from the drawn SVG: Plotly's ``.infolayer`` (``g-gtitle``, ``legend``,
``g-xtitle`` / ``g-ytitle`` …) and Vega-Lite's scenegraph (``role-title``, ``role-legend``,
``role-axis-title``)."""

import pytest
from browser import *  # noqa: F401,F403  (fixtures: server, page, wait_idle)
from browser import settled, wait_idle

VIEWPORT = {"width": 1280, "height": 800}
MIN_CHART_PX = 200
PAGES = [
    pytest.param("learn", id="learn"),
    pytest.param("", id="cell"),
    pytest.param("step_through", id="step_through"),
    pytest.param("train", id="train"),
    pytest.param("compare", id="compare"),
]

# Each chart on the page: its box, the boxes of its titles, legends and axis titles, and any
# legend label cut short with an ellipsis.
CHART_PARTS = """() => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {x: r.left, y: r.top, w: r.width, h: r.height}; };
  const charts = [];
  const part = (kind, el) => ({kind, text: (el.textContent || '').trim().slice(0, 60),
                               ...box(el)});
  document.querySelectorAll("[data-testid='stPlotlyChart']").forEach((c) => {
    const svg = c.querySelector('.main-svg');
    if (!svg) return;
    const info = c.querySelector('.infolayer');
    const parts = [];
    if (info) {
      info.querySelectorAll('.g-gtitle').forEach(e => parts.push(part('title', e)));
      info.querySelectorAll('.legend').forEach(e => parts.push(part('legend', e)));
      [...info.children].filter(e => /^g-[xy]\\d*title$/.test(e.getAttribute('class') || ''))
        .forEach(e => parts.push(part('axis title', e)));
    }
    charts.push({lib: 'plotly', name: (c.querySelector('.gtitle') || {}).textContent || '',
                 ...box(c), parts, cut: []});
  });
  document.querySelectorAll("[data-testid='stVegaLiteChart']").forEach((c) => {
    const svg = c.querySelector('svg');
    if (!svg) return;
    const parts = [];
    svg.querySelectorAll('g.role-title').forEach(e => parts.push(part('title', e)));
    svg.querySelectorAll('g.role-legend').forEach(e => parts.push(part('legend', e)));
    svg.querySelectorAll('g.role-axis-title').forEach(e => parts.push(part('axis title', e)));
    const cut = [...svg.querySelectorAll('.role-legend-label text, .role-title text')]
      .map(t => t.textContent).filter(t => t.includes('…'));
    charts.push({lib: 'vega-lite', name: (svg.querySelector('.role-title-text') || {})
                 .textContent || '', ...box(svg), parts, cut});
  });
  return charts;
}"""

# Pixels of each chart-like element inside the first viewport (the page scrolled to the top).
ABOVE_FOLD = """(selectors) => {
  const h = window.innerHeight;
  return [...document.querySelectorAll(selectors)].map((el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 ? Math.max(0, Math.min(r.bottom, h) - Math.max(r.top, 0)) : 0; });
}"""
CHARTS = "[data-testid='stPlotlyChart'], [data-testid='stVegaLiteChart']"
TABLES = "[data-testid='stDataFrame'], [data-testid='stTable']"


def _overlap(a: dict, b: dict) -> float:
    """Area shared by two boxes (px²)."""
    w = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return max(0.0, w) * max(0.0, h)


def _inside(part: dict, chart: dict, slack: float = 2.0) -> bool:
    return (
        part["x"] >= chart["x"] - slack
        and part["y"] >= chart["y"] - slack
        and part["x"] + part["w"] <= chart["x"] + chart["w"] + slack
        and part["y"] + part["h"] <= chart["y"] + chart["h"] + slack
    )


def problems(charts: list[dict]) -> list[str]:
    """What is wrong with the charts' titles, legends and axis titles, in words."""
    found = []
    for chart in charts:
        parts = [p for p in chart["parts"] if p["w"] > 0 and p["h"] > 0]
        name = f"{chart['lib']} chart {chart['name']!r}"
        for i, a in enumerate(parts):
            for b in parts[i + 1 :]:
                if _overlap(a, b) > 4.0:  # more than a 2 x 2 px corner
                    found.append(
                        f"{name}: {a['kind']} {a['text']!r} overlaps {b['kind']} {b['text']!r}"
                    )
            if not _inside(a, chart):
                found.append(f"{name}: {a['kind']} {a['text']!r} runs off the chart")
        found += [f"{name}: cut short: {t!r}" for t in chart["cut"]]
    return found


def test_problems_finds_an_overlap_a_box_off_the_chart_and_a_cut_label():
    chart = {
        "lib": "plotly",
        "name": "c",
        "x": 0,
        "y": 0,
        "w": 100,
        "h": 100,
        "cut": ["last…"],
        "parts": [
            {"kind": "title", "text": "t", "x": 0, "y": 0, "w": 50, "h": 10},
            {"kind": "legend", "text": "l", "x": 40, "y": 5, "w": 30, "h": 10},
            {"kind": "axis title", "text": "y", "x": -8, "y": 40, "w": 10, "h": 30},
        ],
    }
    found = problems([chart])
    assert len(found) == 3 and "title 't' overlaps legend 'l'" in found[0]
    assert "axis title 'y' runs off" in found[1] and "cut short" in found[2]
    chart["parts"][1]["x"], chart["parts"][2]["x"], chart["cut"] = 60, 0, []
    assert problems([chart]) == []


def _open(page, server, path: str, presenter: bool) -> None:
    page.set_viewport_size(VIEWPORT)
    page.goto(f"{server}/{path}" + ("?presenter=1" if presenter else ""))
    wait_idle(page)
    # every chart drawn (Plotly and Vega draw after Streamlit's run has ended)
    page.wait_for_function(
        f"""() => [...document.querySelectorAll("{CHARTS}")].every(
            c => c.querySelector('.main-svg, svg'))""",
        timeout=30_000,
    )
    page.wait_for_timeout(1000)
    page.evaluate(
        "() => { window.scrollTo(0, 0); "
        "const m = document.querySelector(\"[data-testid='stMain']\"); "
        "if (m) m.scrollTop = 0; }"
    )


@pytest.fixture
def restore_viewport(page):
    yield
    page.set_viewport_size({"width": 1600, "height": 1000})  # conftest's, for later tests


@pytest.mark.parametrize("presenter", [False, True], ids=["normal", "presenter"])
@pytest.mark.parametrize("path", PAGES)
def test_first_screen_shows_a_chart_and_nothing_overlaps(
    server, page, restore_viewport, path, presenter
):
    _open(page, server, path, presenter)
    selectors = CHARTS + (", " + TABLES if path == "" else "")
    shown = page.evaluate(ABOVE_FOLD, selectors)
    assert shown and max(shown) >= MIN_CHART_PX, (
        f"/{path} (presenter={presenter}): the most of a chart above the fold is "
        f"{max(shown, default=0):.0f} px"
    )
    # the geometry once it stops moving: on a loaded machine Plotly may still be placing a
    # legend's items a second after the chart appeared (two items were read as one, over the
    # axis title)
    charts = settled(page, lambda p: p.evaluate(CHART_PARTS), interval_ms=1000)
    assert charts, "no chart drawn"
    bad = problems(charts)
    assert not bad, "\n".join(bad)
    assert page.locator("[data-testid='stException']").count() == 0


def test_streamlits_deploy_and_stop_are_hidden(server, page, restore_viewport):
    _open(page, server, "train?steps=20000", False)  # a run still going when Stop is pressed
    assert not page.locator("[data-testid='stAppDeployButton']").is_visible()
    page.get_by_role("button", name="Start").click()
    page.wait_for_timeout(1500)
    # while the run trains, the only Stop on the page is the page's own
    stops = [b for b in page.get_by_role("button", name="Stop", exact=True).all() if b.is_visible()]
    assert len(stops) == 1
    stops[0].click()
    wait_idle(page)
