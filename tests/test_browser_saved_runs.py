"""Saved runs in Chromium: a reload during training brings the same run back with at least the
steps seen before; another browser gets a read-only view (no Pause) and a fork with the same
history; a server restart between two page loads brings the run back paused."""

import os
import re
from urllib.parse import parse_qs, urlparse

from browser import *  # noqa: F401,F403  (skips without chromium)
from browser import ROOT, wait_idle
from serve import streamlit_server

from explorer.runstore import open_store

PROGRESS = "[data-testid='stProgress']"
STEP = re.compile(r"step ([\d,]+) / ([\d,]+)")


def _progress(page) -> tuple[int, str]:
    """(step, the progress text) of the Train page."""
    text = page.locator(PROGRESS).first.inner_text()
    return int(STEP.search(text).group(1).replace(",", "")), text


def _run_id(page) -> str | None:
    return parse_qs(urlparse(page.url).query).get("run", [None])[0]


def _train_until(page, steps: int) -> int:
    page.get_by_role("button", name="Start").click()
    page.wait_for_function(
        f"""() => {{ const p = document.querySelector("{PROGRESS}");
        const m = p && p.innerText.match(/step ([\\d,]+) \\//);
        return m && parseInt(m[1].replace(/,/g, '')) >= {steps}; }}""",
        timeout=90_000,
    )
    page.wait_for_function("() => location.search.includes('run=')", timeout=30_000)
    return _progress(page)[0]


def _context(browser_page):
    return browser_page.context.browser.new_context(viewport={"width": 1280, "height": 800})


def test_reload_during_training_brings_back_the_same_run(server, browser_page):
    ctx = _context(browser_page)
    page = ctx.new_page()
    try:
        page.goto(f"{server}/train?steps=20000")
        wait_idle(page)
        _train_until(page, 50)
        run_id = _run_id(page)
        seen, _ = _progress(page)  # the last step this tab showed before the reload
        page.reload()
        wait_idle(page)
        page.wait_for_selector(PROGRESS, timeout=60_000)
        step, text = _progress(page)
        assert _run_id(page) == run_id
        assert step >= seen and "paused" in text, (seen, text)
        assert page.get_by_text("was training when its page was closed").count() == 1
        assert page.get_by_role("button", name="Resume").is_enabled()  # still the owner's
        assert page.locator("[data-testid='stException']").count() == 0
        page.get_by_role("button", name="Resume").click()  # and it trains on
        page.wait_for_function(
            f"""() => {{ const m = document.querySelector("{PROGRESS}").innerText
            .match(/step ([\\d,]+) \\//); return m && parseInt(m[1].replace(/,/g, '')) > {step}; }}""",
            timeout=60_000,
        )
        page.get_by_role("button", name="Pause").click()
        wait_idle(page)
    finally:
        ctx.close()


def test_another_browser_watches_read_only_and_forks(server, browser_page):
    owner_ctx, other_ctx = _context(browser_page), _context(browser_page)
    try:
        owner = owner_ctx.new_page()
        owner.goto(f"{server}/train?steps=20000")
        wait_idle(owner)
        _train_until(owner, 30)
        other = other_ctx.new_page()
        other.goto(owner.url)  # the link, in another browser, while its owner trains it
        wait_idle(other)
        assert other.get_by_text("Its owner is training it").count() == 1
        owner.get_by_role("button", name="Pause").click()
        wait_idle(owner)
        owner.wait_for_timeout(1000)
        wait_idle(owner)
        run_id = _run_id(owner)
        owner_step, _ = _progress(owner)
        store = open_store(os.environ["RNN_EXPLORER_DATA"])
        assert store.info(run_id).step == owner_step  # saved at Pause
        # the view follows the owner's saves (a teacher's projector): Pause's save shows
        other.wait_for_function(
            f"""() => {{ const p = document.querySelector("{PROGRESS}");
            return p && p.innerText.includes("step {owner_step:,} /"); }}""",
            timeout=60_000,
        )
        assert other.get_by_text("as its owner last saved it").count() == 1
        assert other.get_by_text("Watching a run of another browser, read-only").count() == 1
        for name in ("Start", "Pause", "Resume", "Stop", "Reset", "One step"):
            assert other.get_by_role("button", name=name, exact=True).count() == 0, name
        # editing the link gives it no control either
        other.goto(owner.url + "&owner=me&status=running")
        wait_idle(other)
        assert other.get_by_role("button", name="Pause", exact=True).count() == 0
        other.get_by_role("button", name="Continue as my own copy").click()
        wait_idle(other)
        other.wait_for_function(f"() => !location.search.includes('{run_id}')", timeout=30_000)
        fork_id = _run_id(other)
        assert fork_id and fork_id != run_id
        assert store.info(fork_id).parent == run_id
        assert _progress(other)[0] == owner_step  # the same history
        assert other.get_by_text("Your own copy of run").count() == 1
        other.get_by_role("button", name="Resume").click()
        other.wait_for_function(
            f"""() => {{ const m = document.querySelector("{PROGRESS}").innerText
            .match(/step ([\\d,]+) \\//); return m && parseInt(m[1].replace(/,/g, '')) > {owner_step}; }}""",
            timeout=60_000,
        )
        other.get_by_role("button", name="Pause").click()
        wait_idle(other)
        other.wait_for_timeout(1000)
        assert store.info(fork_id).step > owner_step  # the copy trains on, saved apart
        assert store.info(run_id).step == owner_step  # the original is as its owner left it
        owner.reload()
        wait_idle(owner)
        owner.wait_for_selector(PROGRESS, timeout=60_000)
        assert _progress(owner)[0] == owner_step
        assert owner.get_by_role("button", name="Resume").count() == 1
    finally:
        owner_ctx.close()
        other_ctx.close()


def test_a_server_restart_brings_the_run_back_paused(tmp_path, browser_page):
    env = {k: v for k, v in os.environ.items() if k != "RNN_EXPLORER_TRAINING"}
    env |= {"RNN_EXPLORER_DATA": str(tmp_path / "runs"), "PYTHONPATH": str(ROOT)}
    ctx = _context(browser_page)
    try:
        page = ctx.new_page()
        with streamlit_server(ROOT / "streamlit_app.py", env) as url:
            page.goto(f"{url}/train?steps=20000")
            wait_idle(page)
            _train_until(page, 30)
            page.wait_for_timeout(6000)  # a save while it trains (every 5 s)
            query = urlparse(page.url).query
            run_id = _run_id(page)
        saved = open_store(tmp_path / "runs").info(run_id)
        assert saved.status == "running" and saved.step > 0  # the server went mid-training
        with streamlit_server(ROOT / "streamlit_app.py", env) as url:
            page.goto(f"{url}/train?{query}")
            wait_idle(page)
            page.wait_for_selector(PROGRESS, timeout=60_000)
            step, text = _progress(page)
            assert step == saved.step and "paused" in text, text
            assert page.get_by_text("was training when its page was closed").count() == 1
            assert page.get_by_role("button", name="Resume").is_enabled()
    finally:
        ctx.close()


def test_compare_reload_during_training_brings_back_the_same_comparison(server, browser_page):
    ctx = _context(browser_page)
    page = ctx.new_page()
    try:
        page.goto(f"{server}/compare?steps=20000")
        wait_idle(page)
        _train_until(page, 10)
        run_id = _run_id(page)
        seen, _ = _progress(page)
        page.reload()
        wait_idle(page)
        page.wait_for_selector(PROGRESS, timeout=60_000)
        step, text = _progress(page)
        assert _run_id(page) == run_id
        assert step >= seen and "paused" in text, (seen, text)
        assert page.get_by_role("button", name="Resume").is_enabled()
        assert page.locator("[data-testid='stException']").count() == 0
    finally:
        ctx.close()
