"""Issue 13's first step, end to end: a child ticks "look at this first" in Chromium, a real
SMTP relay gets the alert within seconds from `seethesigns alerts run`, and staff see the
source first and stop the repeating alert, against gunicorn."""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import Source
from tests.browser.conftest import AlertingSite, log_in, type_back_words


def test_an_urgent_report_alerts_staff_who_see_it_first_and_stop_the_alert(
    browser: Browser, alerting_site: AlertingSite, artifacts: Path
) -> None:
    source, journalist, relay = alerting_site.source, alerting_site.journalist, alerting_site.relay
    staff = alerting_site.staff
    sessions = make_session_factory(make_engine(alerting_site.settings.database_url))
    # Someone else's report first, not urgent: the urgent one must still come first.
    child = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    for urgent in (False, True):
        child.context.clear_cookies()
        child.goto(source.url + "/")
        child.get_by_role("link", name="Start a new report").click()
        type_back_words(child)
        child.get_by_role("button", name="Carry on").click()
        child.get_by_label("What is happening?").fill("They are outside now.")
        if urgent:
            box = child.get_by_label("Yes, please look at this first")
            expect(child.locator("#urgent-hint")).to_contain_text("our website will know")
            box.check()
            child.screenshot(path=str(artifacts / "urgent-box-360.png"), full_page=True)
        child.get_by_role("button", name="Send").click()
        expect(child.get_by_role("heading", level=1)).to_have_text("Thank you. We got it safely.")
    sent = time.monotonic()
    (alert,) = relay.inbox.wait_for(1, timeout=15)[:1]
    print(f"\nurgent alert in the browser journey: at the relay {alert.at - sent:.2f} s after")
    assert alert.at - sent < 5 and alert.recipients == ["casey@example.org"]
    relay.inbox.wait_for(2, timeout=15)  # it repeats

    with sessions() as db:
        urgent_one = db.scalars(select(Source).where(Source.urgent.is_(True))).one()
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, journalist.url, "casey", staff["passphrase"], staff["totp_secret"])
    expect(page.get_by_role("heading", name="Marked urgent by the young person")).to_be_visible()
    first_row = page.locator("table.sources tbody tr").first
    expect(first_row).to_contain_text(urgent_one.designation)
    expect(first_row).to_contain_text("Urgent")
    page.screenshot(path=str(artifacts / "urgent-first-1280.png"), full_page=True)
    page.get_by_role("button", name="I'm dealing with it: stop the alert").click()
    expect(page.get_by_role("status")).to_contain_text("The urgent alert has stopped")
    stopped = len(relay.inbox.messages)
    time.sleep(7)  # two repeat intervals and more
    assert len(relay.inbox.messages) <= stopped + 1  # one may have been on its way
