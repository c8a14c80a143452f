"""The quick exit in a real browser, with JavaScript off and the back/forward cache on.

Playwright launches Chromium with --disable-back-forward-cache; a person's browser has it,
and it is what could put a page back on screen without asking the server. This module's
browser keeps it, and each test first shows that it works (on a page that allows it).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from babel.support import Translations
from playwright.sync_api import Browser, Page
from sqlalchemy import func, select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.instance_settings import Disguise, update_disguise
from seethesigns.models import Source, WebSession
from seethesigns.replies import send_reply
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.storage import Store
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SmallSource,
    chromium_env,
    type_back_words,
)
from tests.certificates import TestAuthority

SEND = "form[action='/submit'] button[type=submit]"
TRANSLATIONS = Path(__file__).resolve().parents[2] / "source_interface" / "translations"
REPORT = "An older boy gives my cousin a phone and sends her to other towns with parcels."
REPLY = "Thank you for telling us. Is your brother safe tonight?"
SCREEN = {"width": 360, "height": 740}
NEUTRAL_PAGE = (
    b'<!doctype html><html lang="en"><title>Weather</title><h1>Weather today</h1>'
    b'<p>Sunny spells.</p><a href="/tomorrow">Tomorrow</a></html>'
)


class NeutralPage(BaseHTTPRequestHandler):
    """A dull page that the back/forward cache may keep (no Cache-Control)."""

    def do_GET(self) -> None:
        """Any path: the same weather page."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(NEUTRAL_PAGE)))
        self.end_headers()
        self.wfile.write(NEUTRAL_PAGE)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def neutral_url() -> Iterator[str]:
    """Where the exit goes in these tests: a page served here, not the BBC's onion."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), NeutralPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # localhost, not 127.0.0.1: another site than the source interface, as in real life.
    yield f"http://localhost:{server.server_port}/weather"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def cached_browser(browser: Browser, authority: TestAuthority) -> Iterator[Browser]:
    """Chromium with its back/forward cache, which Playwright turns off by default.

    Launched through the session's Playwright (one sync Playwright may run at a time).
    """
    launched = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        ignore_default_args=["--disable-back-forward-cache"],
        env=chromium_env(authority),
    )
    yield launched
    launched.close()


@pytest.fixture
def disguised(small_source: SmallSource, neutral_url: str) -> Iterator[Settings]:
    """The shared instance with its exit pointed at the local page; put back afterwards."""
    settings = small_source.settings
    set_disguise(settings, Disguise(exit_url=neutral_url))
    yield settings
    set_disguise(settings, Disguise())


def set_disguise(settings: Settings, disguise: Disguise) -> None:
    """An admin's choice of title and exit page, through the domain function."""
    with make_session_factory(make_engine(settings.database_url))() as db:
        update_disguise(db, disguise)


def reply_to_newest_source(settings: Settings, text: str) -> None:
    """Staff reply, through the domain code, to the source created last (this test's)."""
    with make_session_factory(make_engine(settings.database_url))() as db:
        staff = StaffAccounts(settings.argon2, settings.login).create(db, uuid.uuid4().hex[:12])
        source = db.scalars(select(Source).order_by(Source.id.desc()).limit(1)).one()
        gpg = GpgService(
            settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir
        )
        send_reply(db, Store(settings.store_dir), gpg, source, staff.staff, text)


def session_rows(settings: Settings) -> int:
    """How many source sessions the server holds."""
    with make_session_factory(make_engine(settings.database_url))() as db:
        query = select(func.count()).select_from(WebSession).where(WebSession.interface == "source")
        return int(db.scalar(query) or 0)


def back(page: Page, asked: list[str]) -> None:
    """Press Back and wait until a page is there (one restored from the cache never loads)."""
    asked.clear()
    page.go_back(wait_until="commit")


def assert_back_forward_cache_works(page: Page, neutral_url: str, asked: list[str]) -> None:
    """On a page that allows it, Back shows the page again without asking its server."""
    page.goto(neutral_url)
    page.get_by_role("link", name="Tomorrow").click()
    # Back only once the next page is there: pressed mid-navigation, Chromium could be
    # swapping the page's process ("Not attached to an active page", once in CI).
    page.wait_for_url(lambda url: url != neutral_url)
    back(page, asked)
    assert page.url == neutral_url
    assert neutral_url not in asked, "the back/forward cache is off: this test would prove nothing"


def assert_in_view(page: Page) -> None:
    """The quick exit is wholly on the screen."""
    box = page.locator("a.exit").bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= SCREEN["height"], box


@pytest.mark.parametrize("language", ["en", "ar"])
def test_exit_ends_the_session_and_back_shows_nothing_of_it(
    cached_browser: Browser, disguised: Settings, any_source: SmallSource, neutral_url: str,
    artifacts: Path, language: str,
) -> None:  # fmt: skip
    _ = Translations.load(str(TRANSLATIONS), [language]).gettext
    context = cached_browser.new_context(java_script_enabled=False, viewport=SCREEN)
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    assert_back_forward_cache_works(page, neutral_url, asked)

    page.goto(f"{any_source.url}/?l={language}")
    page.get_by_role("link", name=_("Start a new report")).click()
    codename = page.locator("#codename").inner_text()
    type_back_words(page)
    page.get_by_role("button", name=_("Carry on")).click()
    # The report page is long; the exit stays on screen however far down it is read.
    height = page.locator("body").bounding_box()
    assert height is not None and height["height"] > 2 * SCREEN["height"], height
    page.locator(SEND).scroll_into_view_if_needed()
    assert_in_view(page)
    page.screenshot(path=str(artifacts / f"{language}-1-report-scrolled-down.png"))
    page.locator("#what").fill(REPORT)
    page.locator(SEND).click()
    thanks = _("Thank you. We got it safely.")
    assert page.locator("h1").inner_text() == thanks
    page.screenshot(path=str(artifacts / f"{language}-2-sent.png"))

    reply_to_newest_source(disguised, REPLY)
    page.goto(any_source.url + "/lookup")
    assert REPLY in page.locator("main").inner_text()
    assert page.title() == "Notes"
    page.get_by_text(REPLY).scroll_into_view_if_needed()
    assert_in_view(page)
    page.screenshot(path=str(artifacts / f"{language}-3-reply-read.png"))
    (cookie,) = context.cookies()
    before = session_rows(disguised)

    page.locator("a.exit").click()
    page.wait_for_url(neutral_url)
    assert page.title() == "Weather"
    page.screenshot(path=str(artifacts / f"{language}-4-exit-landed.png"))
    assert session_rows(disguised) == before - 1  # this session's row is gone from the server
    assert context.cookies() == []

    # Back, Back again and once more: /lookup, /sent, then the first /lookup.
    for step, path in [(1, "/lookup"), (2, "/sent"), (3, "/lookup?new=1")]:
        back(page, asked)
        assert any_source.url + path in asked, (step, "not asked again, so shown from a cache")
        page.wait_for_load_state("load")
        assert page.url == any_source.url + "/login", step
        shown = page.locator("body").inner_text()
        for secret in (REPLY, REPORT, thanks, codename):
            assert secret not in shown, (step, secret)
        assert page.title() == "Notes"
        page.screenshot(path=str(artifacts / f"{language}-{4 + step}-back-{step}.png"))
    context.close()

    # A copy of the old cookie opens nothing: the session ended on the server.
    again = cached_browser.new_context(java_script_enabled=False, viewport=SCREEN)
    again.add_cookies([cookie])
    reopened = again.new_page()
    reopened.goto(any_source.url + "/lookup")
    assert reopened.url == any_source.url + "/login"
    assert REPLY not in reopened.locator("body").inner_text()
    again.close()


def test_every_page_wears_the_title_an_admin_chose(
    cached_browser: Browser, disguised: Settings, small_source: SmallSource
) -> None:
    context = cached_browser.new_context(java_script_enabled=False, viewport=SCREEN)
    page = context.new_page()
    for path in ("/", "/signs", "/hide-your-visit", "/login", "/generate", "/no-such-page"):
        page.goto(small_source.url + path)
        assert page.title() == "Notes", path
    set_disguise(disguised, Disguise("Maths revision", Disguise().exit_url))
    for path in ("/", "/logout", "/no-such-page"):
        page.goto(small_source.url + path)
        assert page.title() == "Maths revision", path
    context.close()
