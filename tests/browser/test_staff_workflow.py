"""The staff's working day in a real browser, from a source's report to a new colleague.

A source sends a report over HTTP; then staff, in headless Chromium against gunicorn, log in
with a TOTP code, find the source in the list, read its page, reply, move the case on, export
everything as one zip, and an admin confirms it is them (passphrase and a new code) and adds a
colleague whose secrets are shown once; at their first login the colleague replaces both.
Each step leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path

import pyotp
import requests
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import Case, Source
from seethesigns.storage import designation_slug
from tests.browser.checks import axe_violations, load_axe
from tests.browser.conftest import log_in
from tests.conftest import OfflineKey
from tests.integration.conftest import LiveInstance, csrf, new_source

REPORT = "A man outside school pays my cousin to carry parcels on the train."
PHOTO = b"a photo of the car, pretend"
REPLY = "Thank you for telling us. Are you safe right now?"
NEW_COLLEAGUE = "dana"


def source_sends_a_report(live: LiveInstance) -> Source:
    """A source makes a codename and sends a message and a photo, over HTTP."""
    http = requests.Session()
    new_source(live.source.url, http)
    page = http.get(live.source.url + "/lookup").text
    response = http.post(
        live.source.url + "/submit",
        data={"csrf_token": csrf(page), "msg": REPORT},
        files={"fh": ("car.jpg", PHOTO, "image/jpeg")},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    with make_session_factory(make_engine(live.settings.database_url))() as db:
        return db.scalars(select(Source)).one()


def stored_files(live: LiveInstance, source: Source) -> dict[str, bytes]:
    """The source's stored files, by their name in an export zip."""
    folder = live.settings.store_dir / source.filesystem_id
    slug = designation_slug(source.designation)
    return {f"{slug}/{path.name}": path.read_bytes() for path in folder.iterdir()}


def assert_accessible(page: Page) -> None:
    """No WCAG 2.2 AA violations that axe-core finds on the page as it is."""
    load_axe(page)
    assert axe_violations(page) == []


def test_the_staff_workflow_from_login_to_a_new_colleague(
    browser: Browser, live: LiveInstance, offline_key: OfflineKey, artifacts: Path
) -> None:
    source = source_sends_a_report(live)
    designation, staff = source.designation, live.staff
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    shots = iter(range(1, 100))

    def shot(name: str) -> None:
        page.screenshot(path=str(artifacts / f"{next(shots):02d}-{name}.png"), full_page=True)

    # Log in with passphrase and TOTP code; the staff pages are behind it.
    page.goto(live.journalist.url + "/")
    expect(page).to_have_url(live.journalist.url + "/login")
    shot("login")
    log_in(page, live.journalist.url, staff["username"], staff["passphrase"], staff["totp_secret"])
    expect(page.locator(".who")).to_have_text(f"Logged in as {staff['username']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sources")

    # The source list: one source, new, with its two items unread by this person.
    row = page.locator("table.sources tbody tr")
    expect(row).to_have_count(1)
    expect(row.get_by_role("link", name=designation)).to_be_visible()
    expect(row.locator("td").nth(2)).to_have_text("New")
    expect(row.locator("td.unread")).to_have_text("2")
    shot("source-list")

    # The source's page: the message and the photo, both unread.
    row.get_by_role("link", name=designation).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(designation)
    items = page.locator("table.items tbody tr")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("-msg.gpg")
    expect(items.nth(1)).to_contain_text("-doc.gz.gpg")
    expect(items.locator("td.kind")).to_have_text(["Message", "File"])
    expect(items.locator("td:nth-child(7)")).to_have_text(["unread", "unread"])
    shot("source-page")

    # A reply: listed as from this person, stored encrypted, readable with the offline key.
    page.get_by_label("Your reply").fill(REPLY)
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_contain_text("Reply sent.")
    expect(items).to_have_count(3)
    expect(items.nth(2)).to_contain_text(f"Reply from {staff['username']}")
    (reply_file,) = (live.settings.store_dir / source.filesystem_id).glob("*-reply.gpg")
    assert REPLY.encode() not in reply_file.read_bytes()
    assert offline_key.decrypt(reply_file.read_bytes()).decode() == REPLY
    shot("reply-sent")

    # The case moves from New to In review, on the page, in the database and in the list.
    page.locator("#status").select_option(label="In review")
    page.get_by_role("button", name="Save case").click()
    expect(page.get_by_role("status")).to_have_text("Case saved.")
    expect(page.locator("#status")).to_have_value("in_review")
    with make_session_factory(make_engine(live.settings.database_url))() as db:
        assert db.scalars(select(Case.status).where(Case.source_id == source.id)).one() == (
            "in_review"
        )
    shot("case-in-review")
    page.get_by_role("link", name="All sources").click()
    expect(row.locator("td").nth(2)).to_have_text("In review")

    # Bulk export: the ticked source's items, as one zip of the stored ciphertext.
    page.get_by_label(f"Tick {designation}").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download everything (one zip)").click()
    download = download_info.value
    assert re.fullmatch(r"sources-\d{8}-\d{6}\.zip", download.suggested_filename)
    exported = artifacts / download.suggested_filename
    download.save_as(exported)
    with zipfile.ZipFile(io.BytesIO(exported.read_bytes())) as archive:
        assert archive.testzip() is None
        members = {name: archive.read(name) for name in archive.namelist()}
    assert members == stored_files(live, source)
    assert len(members) == 3  # message, photo, reply
    (message,) = (data for name, data in members.items() if name.endswith("-msg.gpg"))
    assert REPORT.encode() not in exported.read_bytes()
    assert offline_key.decrypt(message).decode() == REPORT
    # Exporting is not reading (issue 13): both stay unread until they are marked seen.
    page.reload()
    expect(row.locator("td.unread")).to_have_text("2")
    shot("exported")

    # Read on the workstation, with the steps and command the help page gives; marked seen.
    row.get_by_role("link", name=designation).click()
    page.get_by_role("link", name="How to read reports on the workstation").click()
    expect(page.locator("#open-command")).to_contain_text("seethesigns-workstation open")
    shot("reading-help")
    page.go_back()
    for _ in range(2):
        page.get_by_role("button", name=re.compile("^Mark as seen")).first.click()
        expect(page.get_by_role("status")).to_have_text("Marked as seen by you.")
    expect(items.locator("td:nth-child(7)")).to_have_text(["seen", "seen", "seen"])
    shot("marked-seen")
    page.get_by_role("link", name="All sources").click()
    expect(row.locator("td.unread")).to_have_text("0")

    # The partnership's figures: this week's one report, downloaded and answered, no content.
    page.get_by_role("link", name="Figures").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Figures for the partnership")
    week = page.locator("table.figures").nth(1).locator("tbody tr")
    expect(week).to_have_count(1)
    expect(week.locator("td").first).to_have_text("1 (1 / 0)")
    assert REPORT not in page.content() and designation not in page.content()
    shot("figures")
    assert_accessible(page)

    # An admin adds a colleague, whose passphrase and two-factor secret are shown once. Being
    # logged in is not enough for that: first the passphrase again and a new code (the next
    # one: the login's code works once), then the add page the admin was going to.
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Staff").click()
    page.get_by_role("link", name="Add a staff member").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    shot("reauthenticate")
    page.get_by_label("Passphrase").fill(staff["passphrase"])
    next_code = pyotp.TOTP(staff["totp_secret"]).at(time.time() + 30)
    page.get_by_label("New code from your authenticator app").fill(next_code)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a staff member")
    page.get_by_label("Username").fill(NEW_COLLEAGUE)
    page.get_by_role("button", name="Add staff member").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Secrets for {NEW_COLLEAGUE}")
    passphrase = page.locator("#passphrase").inner_text()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert len(passphrase.split()) >= 7
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    shot("colleague-secrets")
    page.get_by_role("link", name=f"Back to {NEW_COLLEAGUE}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NEW_COLLEAGUE)
    content = page.content()
    assert passphrase not in content and secret[:8] not in content.replace(" ", "")
    context.close()

    # What was shown lets the colleague in only as far as their first login: the admin knows
    # it, so they choose a passphrase and set up a device of their own before anything else.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live.journalist.url, NEW_COLLEAGUE, passphrase, secret)
    expect(page).to_have_url(live.journalist.url + "/first-login/passphrase")
    expect(page.get_by_role("navigation", name="Staff")).to_have_count(0)
    page.goto(live.journalist.url + "/")  # no way round it
    expect(page).to_have_url(live.journalist.url + "/first-login/passphrase")
    shot("colleague-first-login-passphrase")
    assert_accessible(page)
    own_passphrase = page.locator("#passphrase").inner_text()
    assert own_passphrase != passphrase and len(own_passphrase.split()) == 7
    page.get_by_label("Type the passphrase shown above").fill(passphrase)
    page.get_by_role("button", name="Use this passphrase").click()
    expect(page.get_by_role("alert")).to_contain_text("not the passphrase shown")
    page.get_by_label("Type the passphrase shown above").fill(own_passphrase)
    page.get_by_role("button", name="Use this passphrase").click()
    expect(page).to_have_url(live.journalist.url + "/first-login/two-factor")
    expect(page.locator("figure.qr-code svg")).to_be_visible()
    shot("colleague-first-login-device")
    assert_accessible(page)
    own_secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert own_secret != secret
    # The admin's device and their code were used at login: a code from the new secret.
    page.get_by_label("Code from the app").fill(pyotp.TOTP(own_secret).now())
    page.get_by_role("button", name="Confirm and start").click()
    expect(page.locator(".who")).to_have_text(f"Logged in as {NEW_COLLEAGUE}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sources")
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    shot("colleague-logged-in")
    context.close()

    # Only what the colleague chose works from now on.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, live.journalist.url, NEW_COLLEAGUE, passphrase, own_secret)
    expect(page.locator("#login-error")).to_be_visible()
    context.close()
