"""The Train page in a real browser: the loss curve grows live, pausing holds it, a page switch
keeps it; a CSV upload forecasts the file's column and a bad file says why."""

from browser import *  # noqa: F401,F403  (fixtures: server, page, wait_idle)
from browser import LINE_POINTS

# points of the training-loss line (blue, 1.5 px) in the live Vega-Lite chart; 0 before the
# first step, -1 with no chart on the page
LOSS_POINTS = f"""() => {{ const lines = ({LINE_POINTS})();
  return lines === null ? -1 : (lines['#1f77b4 1.5'] || 0); }}"""


def _loss_points(page) -> int:
    return page.evaluate(LOSS_POINTS)


def _wait_points_above(page, n: int, timeout: int = 60_000) -> int:
    page.wait_for_function(f"() => ({LOSS_POINTS})() > {n}", timeout=timeout)
    return _loss_points(page)


def test_loss_curve_grows_pauses_and_survives_a_page_switch(server, page):
    page.goto(
        f"{server}/train?task=sine&steps=20000"
    )  # runs long enough to pause on a fast machine
    wait_idle(page)
    page.wait_for_function(f"() => ({LOSS_POINTS})() >= 0", timeout=30_000)
    assert _loss_points(page) == 0  # the chart is there, empty, before Start
    page.get_by_role("button", name="Start").click()
    first = _wait_points_above(page, 0)
    grown = _wait_points_above(page, first)  # it grows while training runs
    assert grown > first
    # redrawn without a blank frame: sampled every 50 ms for 4 s, and on until it has moved
    # twice (at most 30 s: its pace depends on the machine; benchmarks/live_chart.py measures
    # it), the chart is always on the page, full height, with its line (the Plotly chart that
    # drew this curve before was remounted at each redraw and was blank in one sample in ten)
    shown = page.evaluate(f"""async () => {{ const out = [];
        for (let i = 0; i < 80 || (i < 600 && new Set(out).size < 3); i++) {{
          const chart = document.querySelector("[data-testid='stVegaLiteChart']");
          out.push(chart && chart.getBoundingClientRect().height > 100 ? ({LOSS_POINTS})() : -2);
          await new Promise(r => setTimeout(r, 50)); }}
        return out; }}""")
    assert min(shown) > 0, shown
    assert len(set(shown)) >= 3, shown  # and it moved at least twice
    page.get_by_role("button", name="Pause").click()
    wait_idle(page)
    # a frame already in flight may still land: wait until the count holds still
    paused = settled(page, _loss_points, interval_ms=1500, tries=10)
    page.wait_for_timeout(1500)
    assert _loss_points(page) == paused > first
    assert "paused" in page.locator("[data-testid='stProgress']").inner_text()
    # to another page and back: the run, its curve and the task are all still there
    page.get_by_role("link", name="Cell & parameters").click()
    wait_idle(page)
    assert _loss_points(page) == -1
    page.get_by_role("link", name="Train").click()
    wait_idle(page)
    page.wait_for_function(f"() => ({LOSS_POINTS})() >= 0", timeout=30_000)
    assert _loss_points(page) == paused, page.locator("[data-testid='stProgress']").inner_text()
    assert "task=sine" in page.url
    assert page.get_by_text("A synthetic signal whose answer is known").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0


def test_csv_upload_forecasts_the_column_and_a_bad_file_says_why(server, page, tmp_path):
    # a German spreadsheet export: BOM, semicolons, day-first dates, decimal commas
    rows = ["Datum;Temperatur;Regen"] + [
        f"{d + 1:02d}.{m + 1:02d}.2021;" + f"{10 + (d % 7) / 2:.1f}".replace(".", ",") + f";{d % 3}"
        for m in range(4)
        for d in range(28)
    ]
    good = tmp_path / "wetter.csv"
    good.write_text("\n".join(rows), encoding="utf-8-sig")
    bad = ROOT / "tests" / "data" / "no_numeric.csv"

    page.goto(f"{server}/train?task=csv")
    wait_idle(page)
    assert page.get_by_text("Upload a CSV file to forecast one of its columns").count() == 1
    uploader = page.locator(".st-key-train_csv input[type='file']")
    uploader.set_input_files(str(good))
    page.get_by_text("Validation forecasts, 1 step ahead").wait_for(timeout=60_000)
    wait_idle(page)
    chosen = page.evaluate(
        "[...document.querySelectorAll('[data-testid=stSelectbox]')].map(s => s.innerText + ' '"
        " + [...s.querySelectorAll('input')].map(i => i.value).join(' '))"
    )
    assert any("time column" in c and "Datum" in c for c in chosen), chosen
    assert any("value column" in c and "Temperatur" in c for c in chosen), chosen
    assert page.get_by_text("Model RMSE").count() == 1

    uploader.set_input_files(str(bad))
    page.get_by_text("cannot be used").wait_for(timeout=60_000)
    wait_idle(page)
    assert page.get_by_text("no_numeric.csv").first.is_visible()
    # nothing else is lost: the earlier file is still the one forecast
    assert page.get_by_text("Using wetter.csv, uploaded earlier").count() == 1
    assert page.get_by_text("Validation forecasts, 1 step ahead").count() == 1
    assert page.locator("[data-testid='stException']").count() == 0


def test_train_and_compare_keep_their_own_task(server, page):
    """Train's task does not follow the reader to Compare, nor Compare's back: each page opens
    on its own choice (Compare on the adding problem, which it is tuned for), so its URL names
    no task. The two pages share the widget's key and URL parameter, not its value."""
    page.goto(f"{server}/train?task=copy")
    wait_idle(page)
    page.get_by_role("link", name="Compare cells").click()
    wait_idle(page)
    page.wait_for_url("**/compare**")
    assert "task=" not in page.url, page.url
    about = page.get_by_text("Each sequence is lag random numbers between 0 and 1").first
    about.wait_for(timeout=30_000)  # the adding problem's description, under the task choice
    page.get_by_role("link", name="Train").click()
    wait_idle(page)
    assert "task=copy" in page.url, page.url  # Train's own choice is still its own
