"""What every source page must pass in a real browser: axe-core, reflow and tap targets."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

# WCAG 2.2 AA and everything below it, as axe-core tags its rules.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
NO_CONTRAST = {"color-contrast": {"enabled": False}}
MIN_TARGET = 24
WIDTHS = (360, 1280)

_axe = Axe()

# Every control a finger or pointer aims at, with its size; off-screen ones (the skip link
# until it has focus) are left out.
_TARGETS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, label[for], summary')]
  .map(e => [e, e.getBoundingClientRect()])
  .filter(([e, r]) => r.right > 0 && r.bottom > 0 && r.width > 0)
  .map(([e, r]) => ({what: e.outerHTML.slice(0, 80), width: r.width, height: r.height}))"""


def load_axe(page: Page) -> None:
    """Put axe-core into the page as it is now (again after each navigation).

    It goes in through page.evaluate, which the pages' CSP (no scripts at all) does not
    govern, so the pages themselves stay script-free.
    """
    page.evaluate(_axe.axe_script)


def axe_violations(page: Page, *, contrast: bool = True) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 AA violations on the page, each with the elements at fault.

    contrast=False leaves out color-contrast, most of axe's running time, where it was just
    measured on the same page at another width: the stylesheet has no media queries, so no
    colour changes with the width.
    """
    options = AXE_OPTIONS if contrast else {**AXE_OPTIONS, "rules": NO_CONTRAST}
    results = page.evaluate("options => axe.run(document, options)", options)
    return [
        {"rule": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]]}
        for v in results["violations"]
    ]


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no sideways scrolling)."""
    return int(
        page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    )


def small_targets(page: Page) -> list[dict[str, Any]]:
    """Controls smaller than 24 x 24 CSS pixels (WCAG 2.2 target size, minimum)."""
    return [
        target
        for target in page.evaluate(_TARGETS)
        if target["width"] < MIN_TARGET or target["height"] < MIN_TARGET
    ]


def exit_link_box(page: Page) -> tuple[int, int, int, int]:
    """Where the quick exit stands on the screen."""
    box = page.locator("a.exit").bounding_box()
    assert box is not None, "no quick exit"
    return round(box["x"]), round(box["y"]), round(box["width"]), round(box["height"])
