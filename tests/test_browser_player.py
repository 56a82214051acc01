"""Real browser: Step through plays in the browser (explorer/ui/player.py). The step line, the
cell diagram, the heatmap cursors and the equations move together with no server rerun; a
stop reaches the server once; the player writes numbers and colours as Python does.
Everything is asserted on step counts, never on elapsed time."""

import re

import pytest
from browser import *  # noqa: F403  (fixtures server, page: conftest.py; skips without chromium)
from browser import wait_idle

from explorer.diagram import colour_for
from explorer.equations import format_number

# One reading of everything the player moves, in one evaluate (so one instant).
STATE = """() => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')]
    .filter(g => g.layout && g.layout.meta && g.layout.meta.player);
  const diagram = plots.find(g => g.layout.meta.player === 'diagram');
  const labelF = diagram && [...diagram.querySelectorAll('.annotation')].find(a =>
    diagram.layout.annotations[+a.dataset.index].name === 'label_f');
  const f = document.querySelector('.rnn-eq [data-v="f.val"]');
  return {
    head: document.querySelector('h4.rnn-step').textContent,
    diagram: diagram.querySelector('.gtitle').textContent,
    diagramF: labelF ? labelF.textContent : null,
    equationF: f ? f.textContent : null,
    equations: document.querySelector('.rnn-eq-head').textContent,
    cursors: plots.filter(g => g.layout.meta.player === 'cursor').map(g => {
      const xa = g._fullLayout.xaxis;
      const path = g.querySelector('.shapelayer path[data-index="0"]');
      const m = /translate\\(([-0-9.]+)/.exec(path.getAttribute('transform') || '');
      return (m ? +m[1] : 0) + xa.l2p(g.layout.meta.t);  // where the cursor is drawn, in px
    }),
    pixels: plots.filter(g => g.layout.meta.player === 'cursor').map(g => {
      const xa = g._fullLayout.xaxis;
      return [xa.l2p(0), xa.l2p(1)];  // px of t = 0 and t = 1: the cursor's t from its px
    }),
    runs: window.__scriptRuns,
  };
}"""

COUNT_RUNS = """() => {
  window.__scriptRuns = 0;
  const app = document.querySelector("[data-testid='stApp']");
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__scriptRuns += 1;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""


def _t(text: str) -> int:
    return int(re.search(r"t = (\d+)", text).group(1))


def _cursor_steps(state: dict) -> list[float]:
    """Each cursor's step, read back from where it is drawn."""
    return [(px - p0) / (p1 - p0) for px, (p0, p1) in zip(state["cursors"], state["pixels"])]


def test_speed_8_plays_in_the_browser_and_everything_follows(server, page):
    page.goto(f"{server}/step_through?speed=8")
    wait_idle(page)
    page.locator(".js-plotly-plot").first.wait_for(state="visible", timeout=30_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.js-plotly-plot')]"
        ".filter(g => g.layout && g.layout.meta).length >= 8",
        timeout=30_000,
    )
    page.evaluate(COUNT_RUNS)
    page.get_by_role("button", name="Play").click()
    seen = []
    for _ in range(400):  # until 25 steps have played, however long that takes
        state = page.evaluate(STATE)
        t = _t(state["head"])
        seen.append(t)
        # everything shows the step the line shows, at the same instant
        assert state["head"].startswith(f"t = {t} of 60")
        assert state["diagram"].endswith(f"step t = {t}")
        assert f"step t = {t}" in state["equations"]
        assert _cursor_steps(state) == pytest.approx(
            [t] * len(state["cursors"]), abs=0.05
        )  # sub-pixel rounding
        assert len(state["cursors"]) == 7  # x_t, h, c, i, f, g, o
        # the diagram's f_t (2 decimals) is the equations' f_t (3 decimals) rounded
        diagram_f = float(state["diagramF"].split("=")[1].replace("−", "-"))
        assert diagram_f == pytest.approx(float(state["equationF"].replace("−", "-")), abs=0.0051)
        if t >= 25:
            break
        page.wait_for_timeout(60)
    assert seen[-1] >= 25 and seen == sorted(seen)  # it advanced on its own, never back
    assert len(set(seen)) >= 10  # and showed the steps on the way
    assert state["runs"] == 0  # no server rerun while playing
    assert "t=" not in page.url  # nor a URL write
    page.get_by_role("button", name="Pause").click()
    wait_idle(page)
    page.wait_for_function("() => /[?&]t=\\d+/.test(location.search)", timeout=30_000)
    wait_idle(page)
    paused = _t(page.evaluate(STATE)["head"])
    assert paused >= 25 and f"t={paused}" in page.url  # the stop reached the server once
    assert page.evaluate("window.__scriptRuns") >= 1
    state = page.evaluate(STATE)
    assert _t(state["head"]) == paused and state["diagram"].endswith(f"step t = {paused}")
    assert _cursor_steps(state) == pytest.approx([paused] * 7, abs=0.05)  # sub-pixel rounding


def test_playback_stops_at_the_end_and_plays_again_from_t_1(server, page):
    numbers = ",".join(str(k) for k in range(12))
    page.goto(f"{server}/step_through?speed=8&input=typed&numbers={numbers}")
    wait_idle(page)
    page.get_by_role("button", name="Play").click()
    page.wait_for_function("() => /[?&]t=12\\b/.test(location.search)", timeout=60_000)
    wait_idle(page)
    assert _t(page.evaluate(STATE)["head"]) == 12
    assert page.get_by_role("button", name="Play").is_visible()  # stopped by itself
    page.get_by_role("button", name="Play").click()
    first = _t(page.evaluate(STATE)["head"])
    assert first < 12  # started over
    page.wait_for_function(
        "() => /t = ([3-9]|1[0-2]) of 12/.test(document.querySelector('h4.rnn-step').textContent)",
        timeout=60_000,
    )


def test_player_writes_numbers_and_colours_as_python(server, page):
    page.goto(f"{server}/step_through")
    wait_idle(page)
    page.wait_for_function("() => window.rnnStepPlayer !== undefined", timeout=30_000)
    for v in (-0.0512, 0.0004, -0.0004, 0.5, 12.3456, -3.0):
        for form in ("num", "term"):
            assert page.evaluate(
                f"window.rnnStepPlayer.formatNumber({v}, '{form}', 3)"
            ) == format_number(v, form)
    from explorer.diagram import diagram_animation

    animation = diagram_animation("lstm", {})
    for key, values in (
        ("f", (0.0, 0.13, 0.5, 0.77, 1.0, 1.4)),
        ("g", (-1.2, -0.3, 0.0, 0.61, 1.0)),
    ):
        scale = animation["scales"][animation["scale_of"][key]]
        for v in values:
            js = page.evaluate("([s, v]) => window.rnnStepPlayer.colour(s, v)", [scale, v])
            ours = [float(c) for c in re.findall(r"[\d.]+", js)]
            python = [float(c) for c in re.findall(r"[\d.]+", colour_for(key, v))]
            assert ours == pytest.approx(python, abs=0.6), (key, v, js, colour_for(key, v))


FOLD = """() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return [r.top, r.bottom, r.left, r.right]; };
  const diagram = [...document.querySelectorAll('.js-plotly-plot')]
    .find(g => g.layout && g.layout.meta && g.layout.meta.player === 'diagram');
  const buttons = [...document.querySelectorAll('button')];
  const named = (text) => buttons.filter(b => b.innerText.includes(text)).map(box);
  return {height: innerHeight, width: innerWidth, diagram: box(diagram),
          play: named('Play'), clamp: named('clamp a gate'), state: named('Initial state'),
          speed: [...document.querySelectorAll('[data-testid=stSlider]')]
                   .filter(s => s.innerText.includes('speed')).map(box)};
}"""


@pytest.mark.parametrize("query", ["", "&presenter=1"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_first_screen_shows_the_player_and_the_diagram(server, page, cell, query):
    """At 1280×800, with and without presenter mode: the player, at least 200 px of the cell
    diagram and the live controls (speed, initial state, clamps) are on the first screen."""
    page.set_viewport_size({"width": 1280, "height": 800})
    try:
        page.goto(f"{server}/step_through?cell={cell}{query}")
        wait_idle(page)
        page.wait_for_function(FOLD.replace("return {", "return !!diagram && {"), timeout=30_000)
        fold = page.evaluate(FOLD)
        top, bottom, _, _ = fold["diagram"]
        assert min(bottom, fold["height"]) - max(top, 0) >= 200, fold
        inside = lambda b: 0 <= b[0] and b[1] <= fold["height"] and b[3] <= fold["width"]  # noqa: E731
        assert fold["play"] and all(inside(b) for b in fold["play"]), fold
        assert fold["speed"] and inside(fold["speed"][0]), fold
        assert fold["state"] and inside(fold["state"][0]), fold
        if cell != "rnn":  # a vanilla RNN has no gate to clamp
            assert fold["clamp"] and inside(fold["clamp"][0]), fold
    finally:
        page.set_viewport_size({"width": 1600, "height": 1000})


@pytest.mark.parametrize("query", ["", "&presenter=1"])
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_every_equation_line_fits_the_page_width(server, page, cell, query):
    """At 1280 px wide, with and without presenter mode, no equation line runs past its box (the
    GRU's n_t was cut at the right edge, its value out of sight): a long line wraps instead."""
    page.set_viewport_size({"width": 1280, "height": 800})
    try:
        page.goto(f"{server}/step_through?cell={cell}{query}")
        wait_idle(page)
        page.wait_for_selector(".rnn-eq-line", timeout=30_000)
        lines = page.evaluate(
            """() => [...document.querySelectorAll('.rnn-eq-line')].map(l => {
                 const box = l.closest('.rnn-eq-lines').getBoundingClientRect();
                 const right = Math.max(...[...l.querySelectorAll('*')]
                   .map(e => e.getBoundingClientRect().right));
                 return {text: l.textContent.slice(0, 40), right, edge: box.right,
                         scroll: l.closest('.rnn-eq-lines').scrollWidth,
                         width: l.closest('.rnn-eq-lines').clientWidth};
               })"""
        )
        assert len(lines) == (6 if cell == "lstm" else 4), lines  # i f g o c h; r z n h
        for line in lines:
            assert line["right"] <= line["edge"] + 1, line
            assert line["scroll"] <= line["width"] + 1, line
    finally:
        page.set_viewport_size({"width": 1600, "height": 1000})
