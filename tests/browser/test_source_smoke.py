"""The source's whole journey in a real browser with JavaScript off, as Tor Browser's "Safest"."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page

from tests.browser.conftest import SmallSource, type_back_words

REPORT = "A man at the park gives my brother money to take bags to another town."


def suffix(site: SmallSource) -> str:
    """What screenshots taken through the HTTPS front add to their names."""
    return "-https" if site.front_url else ""


def heading(page: Page) -> str:
    """The page's h1."""
    return page.locator("h1").inner_text()


def test_the_whole_journey_works_without_javascript(
    browser: Browser, any_source: SmallSource, artifacts: Path
) -> None:
    report = f"{REPORT} (via {'HTTPS' if any_source.front_url else 'gunicorn'})"
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(any_source.url + "/")
    page.screenshot(path=str(artifacts / f"landing-360{suffix(any_source)}.png"), full_page=True)
    exit_link = page.get_by_role("link", name="Leave this site")
    assert exit_link.get_attribute("rel") == "noreferrer"
    assert exit_link.get_attribute("href", timeout=1000) == "/exit"

    # The switcher is plain links, and the choice lasts for the visit.
    page.get_by_role("link", name="Polski").click()
    assert page.locator("html").get_attribute("lang") == "pl"
    page.get_by_role("link", name="Rozpoznaj sygnały", exact=True).click()
    assert heading(page) == "Rozpoznaj sygnały"
    page.get_by_role("link", name="English").click()
    page.get_by_role("link", name="Home", exact=True).click()

    page.get_by_role("link", name="Start a new report").click()
    codename = page.locator("#codename").inner_text()
    assert len(codename.split()) == 7
    type_back_words(page, wrong=True)
    page.get_by_role("button", name="Carry on").click()
    # A wrong answer keeps the same codename, says so kindly, and starts there.
    assert page.locator("#codename").inner_text() == codename
    # autofocus is applied when the page next renders, which a busy machine does late.
    page.wait_for_function("document.activeElement.id === 'check-error'", timeout=10_000)
    type_back_words(page)
    page.get_by_role("button", name="Carry on").click()
    page.get_by_role("link", name="About someone else").click()
    page.get_by_label("What is happening?").fill(report)
    page.get_by_label("Their name").fill("Sam")
    page.get_by_label("Where does it happen?").fill("The park by the station")
    page.get_by_label("I'm not sure").check()
    assert page.get_by_label("Someone else").is_checked()  # chosen by the link above
    page.get_by_role("button", name="Send").click()
    assert heading(page) == "Thank you. We got it safely."
    page.screenshot(path=str(artifacts / f"sent-360{suffix(any_source)}.png"), full_page=True)

    page.get_by_role("button", name="Log out").click()
    assert heading(page) == "You are logged out"
    page.get_by_role("link", name="Home", exact=True).click()
    page.get_by_role("link", name="I have a codename").click()
    page.get_by_label("Your codename").fill(codename)
    page.get_by_role("button", name="Continue").click()
    assert heading(page) == "Your report"

    # Nothing outlives the browser session: the one cookie has no expiry date.
    assert [(c["name"], c["expires"]) for c in context.cookies()] == [("sts_source", -1)]
    context.close()

    messages = [
        any_source.offline_key.decrypt(path.read_bytes()).decode()
        for path in any_source.settings.store_dir.rglob("*-msg.gpg")
    ]
    (message,) = [text for text in messages if report in text]
    assert f"What is happening?\n{report}" in message
    assert "Is anyone in danger right now?\nNot sure" in message
    assert "Is this about you or someone else?\nSomeone else" in message
    assert "Name of the child at risk:\nSam" in message
