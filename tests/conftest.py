"""Session fixtures for the real-browser tests (see ``browser.py``): one ``streamlit run`` on a
free port and one Chromium tab, shared by every browser test module. Only requested by browser
tests, which skip themselves when Chromium is missing."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch
from serve import streamlit_server

ROOT = Path(__file__).resolve().parents[1]

# AppTests run the pages in this process, where no fragment reruns on its own: the app's training
# pool trains one slice at each redraw, in the page's thread (explorer.workers, inline mode). The
# real-browser tests' server below trains in worker processes, as the app does.
os.environ["RNN_EXPLORER_TRAINING"] = "inline"
# The pages save their runs (explorer/ui/runs.py): the tests' go to a store of their own, never
# to a developer's (RNN_EXPLORER_DATA, else ~/.local/share/rnn-explorer). The browser tests'
# server inherits it.
_RUNS = tempfile.mkdtemp(prefix="rnn-explorer-test-runs-")
os.environ["RNN_EXPLORER_DATA"] = _RUNS
atexit.register(shutil.rmtree, _RUNS, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    # the app as served: training in worker processes, not inline as under AppTest
    env = {k: v for k, v in os.environ.items() if k != "RNN_EXPLORER_TRAINING"}
    with streamlit_server(ROOT / "streamlit_app.py", env) as url:
        yield url


@pytest.fixture(scope="session")
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=shutil.which("chromium") or shutil.which("chromium-browser"),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        pg = browser.new_page(viewport={"width": 1600, "height": 1000})
        yield pg
        browser.close()


@pytest.fixture
def page(browser_page):
    """The session's browser tab (one tab, reused: each test navigates first)."""
    return browser_page


SLICE_STEPS = 5  # optimiser steps per live slice under AppTest (see ``slices_by_steps``)


@pytest.fixture
def slices_by_steps(monkeypatch):
    """The Train and Compare pages train in slices of wall-clock time between redraws, so how
    far a run gets in one AppTest ``run()`` depends on the machine: a fast one finished the
    default 300 steps before the test pressed Pause, a loaded one may take a single step. With
    this fixture each slice of the (inline, see above) training pool takes exactly
    ``SLICE_STEPS`` steps (rounds on Compare), whatever the machine's speed."""
    from explorer.workers import TrainingPool

    monkeypatch.setattr(TrainingPool, "inline_steps", SLICE_STEPS)


@pytest.fixture
def one_thread():
    """Tiny models train faster on one PyTorch thread, far faster when other processes share
    the cores (two OpenMP threads then wait on each other). Restores the count afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
