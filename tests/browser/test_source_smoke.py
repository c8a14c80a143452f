"""The source interface in a real browser with JavaScript off, as Tor Browser's "Safest"."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from tests.integration.conftest import LiveInstance


def test_start_a_report_without_javascript(
    browser: Browser, live: LiveInstance, artifacts: Path
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(live.source.url + "/")
    page.screenshot(path=str(artifacts / "landing-360.png"), full_page=True)
    page.get_by_role("link", name="Start a new report").click()
    codename = page.locator("#codename").inner_text()
    assert len(codename.split()) == 7
    page.screenshot(path=str(artifacts / "generate-360.png"), full_page=True)
    page.get_by_role("button", name="I have written it down").click()
    page.get_by_label("Your message").fill("Someone older keeps giving my friend money.")
    page.get_by_role("button", name="Send").click()
    assert "We got it safely" in page.content()
    page.screenshot(path=str(artifacts / "sent-360.png"), full_page=True)
    context.close()
