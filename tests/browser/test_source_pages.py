"""Every source page and error state in Chromium: axe-core, small screens, screenshots.

English and Arabic (right to left), each at 360 px and 1280 px wide. The screenshots land in
test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.checks import (
    WIDTHS,
    axe_violations,
    exit_link_box,
    horizontal_overflow,
    load_axe,
    small_targets,
)
from tests.browser.conftest import SmallSource, type_back_words

STATES = 31
# The waiting page reloads itself (an HTML refresh) while the source waits: axe-core's
# meta-refresh rule (WCAG 2.2.1) flags any refresh under 20 hours. The source chose to wait,
# the page says for how long, and "Stop waiting" turns it off, as 2.2.1 asks; this state
# alone is let off that one rule, and must still break it (the refresh is there).
REFRESHING = {"wait": "meta-refresh"}
# Through the HTTPS front, nginx answers these itself, with one page in all four languages:
# its quick exit names itself four times, so it is wider than on the app's pages.
NGINX_PAGES = {"413-too-big"}
STYLE_SHEET = Path(__file__).resolve().parents[2] / "source_interface" / "static" / "style.css"
SEND = "form[action='/submit'] button[type=submit]"
TOO_BIG = 6 * 1024 * 1024  # over the 1 MiB limit and its 4 MiB allowance for the form


def submit_button(page: Page) -> None:
    """Press the page's main form button (the same in every language)."""
    page.locator("main form button[type=submit]").last.click()


def walk(page: Page, site: SmallSource) -> Iterator[str]:
    """Go through every page and error state as a source would; yield each state's name."""
    base = site.url
    for path, name in [
        ("/", "landing"),
        ("/signs", "signs"),
        ("/hide-your-visit", "hide-your-visit"),
        ("/no-such-page", "404"),
        ("/submit", "405"),
        ("/login?hide=1", "login-hidden"),
        ("/login", "login"),
    ]:
        page.goto(base + path)
        yield name
    page.locator("#codename").fill("not a real codename at all")
    submit_button(page)
    yield "login-failed"
    page.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    submit_button(page)
    yield "form-expired"
    page.goto(base + "/generate")
    yield "generate"
    page.locator("input[name=mac]").evaluate("input => { input.value = 'forged' }")
    type_back_words(page)
    submit_button(page)
    yield "codename-refused"
    page.goto(base + "/generate")
    type_back_words(page, wrong=True)
    submit_button(page)
    yield "codename-words-wrong"
    type_back_words(page)
    submit_button(page)
    yield "lookup-new"
    page.goto(base + "/lookup?about=other")
    yield "lookup-someone-else"
    page.locator(SEND).click()
    yield "lookup-empty"
    video = {"name": "a.mp4", "mimeType": "video/mp4", "buffer": bytes(TOO_BIG)}
    page.set_input_files("#fh", [video])  # type: ignore[list-item]
    page.locator(SEND).click()
    yield "413-too-big"
    page.goto(base + "/lookup")
    page.locator("#what").fill("A man gives my brother money to take bags to another town.")
    page.locator("#danger-unsure").check()
    page.locator(SEND).click()
    yield "sent"
    page.locator("main a[href='/wait']").click()
    yield "wait"
    site.start_wait_earlier(page, timedelta(minutes=11))
    page.goto(base + "/wait")
    yield "wait-no-reply"
    page.goto(base + "/lookup")
    page.locator("#what").fill("My friend is sent to other towns with bags.")
    page.locator("input[name=who][value=other]").check()
    page.locator(SEND).click()
    yield "sent-someone-else"
    site.reply_to_newest_source("We read your report. You are not in trouble.", "A second reply.")
    page.goto(base + "/wait")
    yield "wait-reply"
    page.goto(base + "/lookup")
    yield "lookup-replies"
    page.locator("form[action='/delete-reply'] button").first.click()
    yield "delete-reply"
    submit_button(page)
    page.wait_for_load_state("load")
    page.locator("form[action='/delete-all-replies'] button").click()
    yield "delete-all-replies"
    submit_button(page)
    yield "lookup-replies-deleted"
    page.goto(base + "/logout")
    yield "logout"
    page.goto(base + "/delete-account")
    yield "delete-account"
    submit_button(page)
    yield "delete-unconfirmed"
    page.locator("#confirm").check()
    submit_button(page)
    yield "deleted"
    page.goto(base + "/logout")
    yield "logged-out"
    site.break_submission_key()
    try:
        page.goto(base + "/")
        yield "503-closed"
    finally:
        site.mend_submission_key()


@pytest.mark.parametrize("language", ["en", "ar"])
def test_every_page_passes_axe_and_fits_small_and_large_screens(
    browser: Browser, small_source: SmallSource, artifacts: Path, language: str
) -> None:
    check_every_page(browser, small_source, artifacts, language)


def test_every_page_passes_axe_over_the_https_front(
    browser: Browser, small_source: SmallSource, https_front: str, artifacts: Path
) -> None:
    """The same pages through nginx's HTTPS front (issue 17), in English: its own 413 page
    is in all four languages under lang="en"."""
    site = replace(small_source, front_url=https_front)
    check_every_page(browser, site, artifacts, "en", prefix="https-")


def check_every_page(
    browser: Browser, small_source: SmallSource, artifacts: Path, language: str, prefix: str = ""
) -> None:
    """Walk every state in language; check axe, sizes and the exit's place on each."""
    assert "@media" not in STYLE_SHEET.read_text()  # colours measured once hold at every width
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 740})
    page = context.new_page()
    page.goto(f"{small_source.url}/?l={language}")
    found: dict[str, dict[int, list]] = {}
    exits: dict[int, set[tuple[int, int, int, int]]] = {width: set() for width in WIDTHS}
    for state in walk(page, small_source):
        page.wait_for_load_state("load")  # a click only waits for the navigation to start
        assert page.locator("html").get_attribute("lang") == language, state
        assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
        found[state] = {}
        load_axe(page)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 740})
            problems = axe_violations(page, contrast=width == WIDTHS[0])
            if state in REFRESHING:
                rules = [p["rule"] for p in problems]
                assert REFRESHING[state] in rules, (state, rules)
                problems = [p for p in problems if p["rule"] != REFRESHING[state]]
            if overflow := horizontal_overflow(page):
                problems.append({"rule": "horizontal scrolling", "pixels": overflow})
            problems += [{"rule": "target under 24 px", **t} for t in small_targets(page)]
            found[state][width] = problems
            if state not in NGINX_PAGES or not prefix:
                exits[width].add(exit_link_box(page))
            shot = artifacts / f"{prefix}{language}-{state}-{width}.png"
            page.screenshot(path=str(shot), full_page=True, scale="css")
        page.set_viewport_size({"width": WIDTHS[0], "height": 740})
    context.close()
    (artifacts / f"{prefix}problems.json").write_text(
        json.dumps(found, indent=1, ensure_ascii=False)
    )
    assert len(found) == STATES
    assert {state: p for state, by_width in found.items() for p in by_width.values() if p} == {}
    # The quick exit stands in the same place on every page.
    assert all(len(boxes) == 1 for boxes in exits.values()), exits


@pytest.mark.parametrize("language", ["pl", "ro"])
def test_longer_words_still_fit_a_small_screen(
    browser: Browser, small_source: SmallSource, artifacts: Path, language: str
) -> None:
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 740})
    page = context.new_page()
    pages = ["/", "/signs", "/hide-your-visit", "/login", "/logout", "/generate"]
    for path in pages:
        page.goto(f"{small_source.url}{path}?l={language}")
        assert horizontal_overflow(page) == 0, path
        assert small_targets(page) == [], path
    type_back_words(page)
    submit_button(page)  # from /generate to the report form
    page.wait_for_load_state("load")
    assert horizontal_overflow(page) == 0
    assert small_targets(page) == []
    page.screenshot(path=str(artifacts / f"{language}-lookup-360.png"), full_page=True)
    page.locator("#what").fill("A man gives my friend bags to take to other towns.")
    page.locator("input[name=who][value=other]").check()
    # The confirmation and the waiting page, whose sentences are among the longest.
    for state, go in [("sent-someone-else", SEND), ("wait", "main a[href='/wait']")]:
        page.locator(go).click()
        page.wait_for_load_state("load")
        assert horizontal_overflow(page) == 0, state
        assert small_targets(page) == [], state
        page.screenshot(path=str(artifacts / f"{language}-{state}-360.png"), full_page=True)
    context.close()
