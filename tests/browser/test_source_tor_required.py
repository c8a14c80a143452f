"""With "require Tor" on, what a child sees through the HTTPS front (issue 17), in Chromium
trusting the tests' own CA: one page that explains, passes axe, needs no script, and exits."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Error as PlaywrightError

from seethesigns.db import make_engine, make_session_factory
from seethesigns.instance_settings import instance_config
from seethesigns.onion import OnionKeys
from tests.browser.checks import WIDTHS, axe_violations, horizontal_overflow, load_axe
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SmallSource


def set_require_tor(site: SmallSource, required: bool) -> None:
    """The admin setting, as the settings page stores it."""
    engine = make_engine(site.settings.database_url)
    with make_session_factory(engine)() as db:
        instance_config(db).require_tor = required
        db.commit()
    engine.dispose()


@pytest.fixture
def tor_required(small_source: SmallSource) -> Iterator[SmallSource]:
    """small_source with Tor required, for one test."""
    set_require_tor(small_source, True)
    yield small_source
    set_require_tor(small_source, False)


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_tor_browser_page_over_https(
    browser: Browser, tor_required: SmallSource, https_front: str, artifacts: Path, language: str
) -> None:
    address = OnionKeys(tor_required.settings.tor.keys_dir).service_key("source").address
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": WIDTHS[0], "height": 740}
    )
    page = context.new_page()
    response = page.goto(f"{https_front}/generate?l={language}")
    assert response is not None and response.status == 200
    assert page.url.startswith("https://")
    assert f"{address}.onion" in page.locator("main").inner_text()
    assert page.locator("form").count() == 0
    assert page.locator("html").get_attribute("dir") == ("rtl" if language == "ar" else "ltr")
    page.screenshot(path=str(artifacts / f"https-{language}-tor-required.png"), full_page=True)
    context.close()
    # axe needs its script, so it runs in a context with JavaScript on.
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 740})
    page = context.new_page()
    page.goto(f"{https_front}/?l={language}")
    load_axe(page)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 740})
        assert axe_violations(page) == [], width
        assert horizontal_overflow(page) == 0, width
    page.locator("a.exit").click()
    # Waits for the exit's navigation itself: the page already loaded counted as "load", and
    # the URL was read before the exit had begun (once in CI).
    page.wait_for_url(lambda url: not url.startswith(https_front))
    assert not page.url.startswith(https_front)
    context.close()


def test_chromium_trusts_the_front_only_through_the_test_ca(
    browser: Browser, https_front: str, tmp_path: Path
) -> None:
    """Control: a Chromium whose home has no NSS database refuses the front's certificate,
    so the tests over HTTPS pass because the CA is trusted, not because nothing is checked."""
    untrusting = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        page = untrusting.new_page()
        with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
            page.goto(https_front + "/")
    finally:
        untrusting.close()
