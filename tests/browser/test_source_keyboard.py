"""The journey by keyboard alone with the focus always visible, and the pages at 200% zoom."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page

from tests.browser.checks import horizontal_overflow, small_targets
from tests.browser.conftest import SmallSource, type_back_words

MAX_TABS = 40
_FOCUSED = """() => {
  const e = document.activeElement, r = e.getBoundingClientRect(), s = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), id: e.id, text: e.innerText || e.value || '',
          type: e.type || '', outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
          shadow: s.boxShadow, top: r.top, bottom: r.bottom, left: r.left, right: r.right,
          innerHeight: innerHeight, innerWidth: innerWidth};
}"""


def tab_to(page: Page, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Press Tab until the wanted element has focus; every stop must show its focus."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        where = f"{page.url} {focused['tag']}#{focused['id']} {focused['text'][:30]!r}"
        assert focused["outline"] == "solid" and focused["width"] >= 2, where
        assert focused["shadow"] != "none", where
        # Not hidden off screen (WCAG 2.4.11, focus not obscured).
        assert focused["bottom"] > 0 and focused["top"] < focused["innerHeight"], where
        assert focused["right"] > 0 and focused["left"] < focused["innerWidth"], where
        if wanted(focused):
            return focused
    raise AssertionError(f"never reached the element on {page.url}")


def text(name: str) -> Callable[[dict[str, Any]], bool]:
    """Matches the focused element by its visible text."""
    return lambda focused: focused["text"].strip() == name


def element_id(name: str) -> Callable[[dict[str, Any]], bool]:
    """Matches the focused element by its id."""
    return lambda focused: focused["id"] == name


def test_the_whole_journey_by_keyboard_with_visible_focus(
    browser: Browser, small_source: SmallSource, artifacts: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(small_source.url + "/")
    skip = tab_to(page, text("Skip to main content"))  # the first stop, and on screen
    assert skip["left"] >= 0
    page.screenshot(path=str(artifacts / "skip-link-focused.png"))
    tab_to(page, text("Start a new report"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/generate")
    words = page.locator("#codename").inner_text().split()
    for field in ("word_a", "word_b"):  # the two words it asks for, typed by keyboard
        tab_to(page, element_id(field))
        label = page.locator(f"label[for={field}]").inner_text()
        page.keyboard.type(words[int(label.split()[-1]) - 1])
    tab_to(page, text("Carry on"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/lookup?new=1")
    tab_to(page, element_id("what"))
    page.keyboard.type("Someone older keeps giving my friend money.")
    tab_to(page, element_id("danger-yes"))
    page.keyboard.press("ArrowDown")  # a radio group is one stop; arrows choose
    assert page.locator("#danger-no").is_checked()
    page.screenshot(path=str(artifacts / "radio-focused.png"))
    tab_to(page, text("Send"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/sent")
    assert page.locator("h1").inner_text() == "Thank you. We got it safely."
    tab_to(page, text("Log out"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/logout")
    assert page.locator("h1").inner_text() == "You are logged out"
    context.close()


def test_pages_stay_usable_at_200_percent_zoom(
    browser: Browser, small_source: SmallSource, artifacts: Path
) -> None:
    # Chromium at 200% zoom in a 1280 px window lays a page out 640 CSS px wide, at twice
    # the pixels: the same as this viewport.
    context = browser.new_context(viewport={"width": 640, "height": 400}, device_scale_factor=2)
    page = context.new_page()
    paths = ["/", "/signs", "/hide-your-visit", "/login", "/generate", "/?l=ar"]
    for path in paths:
        page.goto(small_source.url + path)
        assert horizontal_overflow(page) == 0, path
        assert small_targets(page) == [], path
        body = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
        assert body >= 16, path
        name = path.strip("/").replace("?l=", "lang-") or "landing"
        page.screenshot(path=str(artifacts / f"zoom-200-{name}.png"), full_page=True)
    page.goto(small_source.url + "/generate")
    type_back_words(page)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/lookup?new=1")
    assert horizontal_overflow(page) == 0
    page.screenshot(path=str(artifacts / "zoom-200-lookup.png"), full_page=True)
    context.close()
