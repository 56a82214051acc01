"""Real browser: a nested unknown path opens its first segment's page (or Streamlit's "Page not
found"), never a blank page (Streamlit's scripts resolved relative to the nested path)."""

from browser import *  # noqa: F403  (skips without chromium; fixtures server, page: conftest.py)
from browser import wait_idle


def _main_text(page) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def test_nested_path_under_a_page_opens_that_page(server, page):
    page.goto(f"{server}/train/x?hidden_size=9")
    wait_idle(page)
    assert page.url == f"{server}/train?hidden_size=9"
    assert page.get_by_role("spinbutton", name="hidden_size").input_value() == "9"
    assert page.get_by_role("button", name="Start").count() > 0  # the Train page, drawn


def test_deeper_nested_path_opens_its_page(server, page):
    page.goto(f"{server}/learn/a/b")
    wait_idle(page)
    assert page.url == f"{server}/learn"
    assert _main_text(page).strip()  # not blank


def test_nested_unknown_path_says_page_not_found(server, page):
    page.goto(f"{server}/nothing/here/at/all")
    wait_idle(page)
    assert page.url.startswith(server)
    assert page.get_by_text("Page not found").count() > 0
