"""Issue 14's "Done when": a MASH-style instance with three teams, end to end in Chromium.

An admin makes the Police liaison and Health teams in the browser, gives each its key and its
member, and says in the partnership's own words who reads reports. A child, told so, reports
(JavaScript off, a phone's width); only the front door sees the case and is alerted. The front
door reads it on the real workstation, shares one message with the police, taking a detail out
on the way, and uploads the package; the police officer sees the case with that copy only, and
only the police key opens it; Health sees nothing. The front door then hands the case over to
Health, and the admin reads both in the audit log. Each step leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyotp
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.browser.conftest import AlertingSite, log_in
from tests.browser.test_the_whole_shift import open_on_workstation, send_report
from tests.conftest import OfflineKey, SpareKeys, short_tmpdir

WORKSTATION = Path(sys.executable).parent / "seethesigns-workstation"
REPORT = "A man called Dean makes me carry bags from Leigh station to a flat on Mill Road."
SHARED = "A man makes me carry bags from Leigh station to a flat on Mill Road."
READERS = "social workers and police officers who work together in Southend"
SHARED_WITH = "health workers, like a doctor or school nurse"
PHONE: ViewportSize = {"width": 360, "height": 740}
DESK: ViewportSize = {"width": 1280, "height": 900}


def desk(browser: Browser) -> BrowserContext:
    """A staff browser at a desk, with JavaScript off as the staff pages need none."""
    return browser.new_context(viewport=DESK, java_script_enabled=False, accept_downloads=True)


def reauthenticate(page: Page, account: dict[str, str]) -> None:
    """Confirm it's you, with the next time step's code (the login used this one)."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm it's you")
    page.get_by_label("Passphrase").fill(account["passphrase"])
    code = pyotp.TOTP(account["totp_secret"]).at(time.time() + 30)
    page.get_by_label("New code from your authenticator app").fill(code)
    page.get_by_role("button", name="Confirm").click()


def staff_in(browser: Browser, site: AlertingSite, username: str, account: dict[str, str]) -> Page:
    """A new desk browser, logged in."""
    page = desk(browser).new_page()
    log_in(page, site.journalist.url, username, account["passphrase"], account["totp_secret"])
    expect(page.locator(".who")).to_have_text(f"Logged in as {username}")
    return page


def share_on_workstation(opened: Path, keys: Path, out: Path, editor: Path) -> str:
    """`seethesigns-workstation share` of the first message for the police, as typed at a desk."""
    (message,) = opened.glob("*/1-message.txt")
    done = subprocess.run(
        [
            str(WORKSTATION), "share", str(opened), "--homedir", str(opened),
            "--keys", str(keys), "--team", "Police liaison", "--item", str(message),
            "--out", str(out), "--yes",
        ],
        env={**os.environ, "EDITOR": str(editor), "VISUAL": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_three_teams_one_front_door_and_a_share_across_the_boundary(
    browser: Browser,
    alerting_site: AlertingSite,
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
    artifacts: Path,
) -> None:
    site = alerting_site
    shots = iter(range(1, 100))

    def shot(page: Page, name: str) -> None:
        page.screenshot(path=str(artifacts / f"{next(shots):02d}-{name}.png"), full_page=True)

    # 1. The admin sets the partnership up: two more teams, a key and a member each.
    avery = site.add_staff("avery", admin=True)
    paul, hana = site.add_staff("paul"), site.add_staff("hana")
    admin = staff_in(browser, site, "avery", avery)
    admin.get_by_role("navigation", name="Staff").get_by_role("link", name="Teams").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Teams")
    admin.get_by_label("Name", exact=True).fill("Police liaison")
    admin.get_by_role("button", name="Make team").click()
    reauthenticate(admin, avery)
    admin.get_by_label("Name", exact=True).fill("Police liaison")
    admin.get_by_role("button", name="Make team").click()
    expect(admin.get_by_role("status")).to_contain_text("The team was made")
    admin.get_by_label("Name", exact=True).fill("Health")
    admin.get_by_role("button", name="Make team").click()
    for team, key in (("Police liaison", spare_keys.second), ("Health", spare_keys.on_call)):
        admin.get_by_role("navigation", name="Staff").get_by_role("link", name="Keys").click()
        admin.get_by_label("Name", exact=True).fill(f"{team} device")
        admin.get_by_label("Team").select_option(label=team)
        admin.get_by_label("Public key").fill(key.public_key)
        admin.get_by_role("button", name="Add key").click()
        expect(admin.get_by_role("status")).to_contain_text("The key was added")
    admin.get_by_role("navigation", name="Staff").get_by_role("link", name="Teams").click()
    for username, team in (("paul", "Police liaison"), ("hana", "Health")):
        row = admin.locator("table.staff tbody tr", has_text=username)
        row.get_by_label("Front door").uncheck()
        row.get_by_label(team).check()
        row.get_by_role("button", name=f"Save teams of {username}").click()
        expect(admin.get_by_role("status")).to_have_text("Membership saved.")
    shot(admin, "admin-teams")
    # The partnership says who reads reports and who may be told, in its own words.
    admin.get_by_role("navigation", name="Staff").get_by_role("link", name="Settings").click()
    admin.get_by_label("Who reads every report").fill(READERS)
    admin.get_by_label("Who a report may be shared with").fill(SHARED_WITH)
    admin.get_by_role("button", name="Save reply settings").click()
    expect(admin.get_by_role("status")).to_contain_text("who reads reports saved")

    # 2. A child reports, told first who reads it; the front door is alerted, and only it sees
    # the case.
    child = browser.new_context(viewport=PHONE, java_script_enabled=False).new_page()
    child.goto(site.source.url + "/")
    expect(child.get_by_role("main")).to_contain_text(f"Your report is read by {READERS}.")
    expect(child.get_by_role("main")).to_contain_text(f"share what you sent with {SHARED_WITH},")
    send_report(child, site.source.url, REPORT, urgent=True)
    expect(child.get_by_role("main")).to_contain_text(f"Your report is read by {READERS}.")
    child.context.close()
    (alert,) = site.relay.inbox.wait_for(1, timeout=30)[:1]
    assert alert.recipients == ["casey@example.org"]
    casey = staff_in(browser, site, "casey", site.staff)
    rows = casey.locator("table.sources tbody tr")
    expect(rows).to_have_count(1)
    designation = rows.nth(0).locator("a").first.inner_text()
    police = staff_in(browser, site, "paul", paul)
    expect(police.locator("table.sources tbody tr")).to_have_count(0)
    shot(police, "police-sees-nothing-yet")

    # 3. The front door reads it on the workstation and shares one message with the police,
    # taking the man's name out on the way.
    casey.get_by_role("link", name=designation).click()
    expect(casey.locator(".encrypted-to")).to_contain_text(["Submission key"])
    with casey.expect_download() as downloading:
        casey.get_by_role("button", name="Download all (one zip)").click()
    work = short_tmpdir("stsmash")
    try:
        export = work / "export.zip"
        downloading.value.save_as(export)
        assert REPORT in open_on_workstation(export, offline_key, work / "opened")
        with casey.expect_download() as keys:
            casey.get_by_role("link", name="Police liaison's keys").click()
        keys.value.save_as(work / "police.asc")
        editor = work / "editor.sh"
        editor.write_text("#!/bin/sh\nsed -i 's/ called Dean//' \"$1\"\n")
        editor.chmod(0o700)
        printed = share_on_workstation(work / "opened", work / "police.asc", work / "p.zip", editor)
        assert "1 message, 0 documents" in printed
        casey.get_by_label("Shared with").select_option(label="Police liaison")
        casey.get_by_label("Package (.zip from the workstation)").set_input_files(work / "p.zip")
        casey.get_by_role("button", name="Upload and share").click()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    expect(casey.get_by_role("status")).to_contain_text("Shared")
    expect(casey.locator("#owner")).to_contain_text("Shared with Police liaison (1 copy)")
    shot(casey, "front-door-shared")

    # 4. The police see the case with the shared copy only; only the police key opens it.
    police.reload()
    expect(police.locator("table.sources tbody tr")).to_have_count(1)
    police.get_by_role("link", name=designation).click()
    expect(police.locator("#shared-only")).to_contain_text("You see only the copies shared")
    items = police.locator("table.items tbody tr")
    expect(items).to_have_count(1)
    expect(items.locator(".shared-copy")).to_have_text("Shared copy for Police liaison")
    expect(police.get_by_role("button", name="Send reply")).to_have_count(0)
    with police.expect_download() as copy:
        items.locator("a").first.click()
    ciphertext = Path(copy.value.path()).read_bytes()
    read = spare_keys.second.decrypt(ciphertext).decode()
    assert SHARED in read and "Dean" not in read
    assert not offline_key.opens(ciphertext) and not spare_keys.on_call.opens(ciphertext)
    shot(police, "police-shared-copy")
    health = staff_in(browser, site, "hana", hana)
    expect(health.locator("table.sources tbody tr")).to_have_count(0)

    # 5. The front door hands the case over to Health, which now sees all of it.
    casey.get_by_label("Team", exact=True).select_option(label="Health")
    casey.get_by_label(re.compile("my team will no longer see it")).check()
    casey.get_by_role("button", name="Hand over").click()
    expect(casey.locator("table.sources tbody tr")).to_have_count(0)
    health.reload()
    expect(health.locator("table.sources tbody tr")).to_have_count(1)
    health.get_by_role("link", name=designation).click()
    expect(health.locator("#owner")).to_contain_text("Owned by Health")
    shot(health, "health-owns-the-case")

    # 6. The admin reads the share and the handover in the audit log.
    admin.get_by_role("navigation", name="Staff").get_by_role("link", name="Audit log").click()
    log = admin.locator("table.audit tbody")
    expect(log).to_contain_text("case.share")
    expect(log).to_contain_text("case.handover")
    shot(admin, "admin-audit")
    assert "Dean" not in admin.content()
    for page in (admin, casey, police, health):
        page.context.close()
