"""Waiting for a reply in a real browser, with JavaScript off, on a phone-sized screen.

The waiting page reloads itself with an HTML refresh; once staff reply, the next reload shows
the reply and the page stops reloading. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from source_interface.views.waiting import REFRESH_SECONDS
from tests.browser.checks import exit_link_box
from tests.browser.conftest import SmallSource, type_back_words

SCREEN = {"width": 360, "height": 740}
REPORT = "An older boy pays me to take bags to another town on the train."
REPLY = {
    "en": "Thank you for telling us. Are you safe right now?",
    "ar": "شكرًا لأنك أخبرتنا. هل أنت في أمان الآن؟",
}
REFRESH = 'meta[http-equiv="refresh"]'


def exit_in_view(box: tuple[int, int, int, int]) -> bool:
    """True when the quick exit is wholly on the screen."""
    x, y, width, height = box
    return 0 <= x <= SCREEN["width"] - width and 0 <= y <= SCREEN["height"] - height


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_waiting_page_reloads_by_itself_and_shows_the_staff_reply(
    browser: Browser, small_source: SmallSource, artifacts: Path, language: str
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=SCREEN)
    page = context.new_page()
    visits: list[str] = []  # every page the tab shows, reloads included
    page.on("framenavigated", lambda frame: visits.append(frame.url.split("?")[0]))
    page.goto(f"{small_source.url}/generate?l={language}")
    type_back_words(page)
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state("load")
    page.locator("#what").fill(REPORT)
    page.locator("input[name=who][value=me]").check()
    page.locator("form[action='/submit'] button[type=submit]").click()
    page.wait_for_url("**/sent")
    page.screenshot(path=str(artifacts / f"{language}-1-sent.png"), full_page=True)

    page.locator("main a[href='/wait']").click()
    page.wait_for_url("**/wait")
    assert page.locator(REFRESH).get_attribute("content") == str(REFRESH_SECONDS)
    assert page.title() == "Notes"  # the neutral title, as on every page
    assert page.locator("main a[href='/wait']").count() == 1  # "Check now"
    assert exit_in_view(exit_link_box(page))
    page.screenshot(path=str(artifacts / f"{language}-2-waiting.png"), full_page=True)

    small_source.reply_to_newest_source(REPLY[language])
    replied = time.monotonic()
    # Nothing is clicked from here on: only the page's own refresh can bring the reply.
    reply = page.locator("p.reply-text")
    reply.wait_for(timeout=(REFRESH_SECONDS + 15) * 1000)
    shown = time.monotonic()
    assert reply.inner_text() == REPLY[language]
    assert shown - replied <= REFRESH_SECONDS + 10
    page.wait_for_load_state("load")
    # The first visit to /wait and the reload that brought the reply, at least; no clicks.
    assert visits.count(f"{small_source.url}/wait") >= 2, visits
    assert page.locator(REFRESH).count() == 0  # and it stops reloading
    assert page.locator("html").get_attribute("lang") == language
    assert exit_in_view(exit_link_box(page))
    page.screenshot(path=str(artifacts / f"{language}-3-reply.png"), full_page=True)
    page.mouse.wheel(0, 2000)  # the exit stays in view at the bottom of the page too
    page.wait_for_timeout(200)
    assert exit_in_view(exit_link_box(page))
    page.screenshot(path=str(artifacts / f"{language}-4-reply-scrolled.png"))
    context.close()
