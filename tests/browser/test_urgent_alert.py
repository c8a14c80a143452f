"""Issue 13's first step, end to end: a child ticks "look at this first" in Chromium, a real
SMTP relay gets the alert within seconds from `seethesigns alerts run`, and staff see the
source first and stop the repeating alert, against gunicorn."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pyotp
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import Source, Staff
from tests.browser.conftest import type_back_words
from tests.conftest import OfflineKey, activate, make_instance, short_tmpdir
from tests.integration.conftest import SEETHESIGNS, start_server, stop_server
from tests.seethesigns.alerts.conftest import alerts_section
from tests.seethesigns.alerts.relay import PASSWORD, Inbox, Relay, self_signed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_an_urgent_report_alerts_staff_who_see_it_first_and_stop_the_alert(
    browser: Browser, offline_key: OfflineKey, template_database: Path, artifacts: Path
) -> None:
    files = short_tmpdir("stsrelay")
    cert, key = self_signed(files)
    (files / "password").write_text(PASSWORD)
    relay = Relay(free_port(), cert, key, Inbox())
    relay.start()
    # Repeats every 3 s here; the default poll (2 s), as deployed.
    extra = alerts_section(relay, files, urgent_repeat_minutes="0.05")
    settings = make_instance(
        offline_key, template_database, extra=extra.replace("poll_seconds = 0.05\n", "")
    )
    config = settings.data_dir / "seethesigns.toml"
    logs = short_tmpdir("stslog")
    made = subprocess.run(
        [str(SEETHESIGNS), "add-staff", "casey", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    staff = json.loads(made.stdout)
    sessions = make_session_factory(make_engine(settings.database_url))
    with sessions() as db:
        account = db.scalars(select(Staff)).one()
        account.alerts_enabled, account.alert_address = True, "casey@example.org"
        db.commit()
        activate(db, account)  # as if casey's first login were done
    source = start_server("source", config, logs)
    journalist = start_server("journalist", config, logs)
    sender_log = (logs / "alerts.log").open("wb")
    sender = subprocess.Popen(
        [str(SEETHESIGNS), "alerts", "run", "--config", str(config)],
        stdout=sender_log,
        stderr=sender_log,
    )
    try:
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
            expect(child.get_by_role("heading", level=1)).to_have_text(
                "Thank you. We got it safely."
            )
        sent = time.monotonic()
        (alert,) = relay.inbox.wait_for(1, timeout=15)[:1]
        print(f"\nurgent alert in the browser journey: at the relay {alert.at - sent:.2f} s after")
        assert alert.at - sent < 5 and alert.recipients == ["casey@example.org"]
        relay.inbox.wait_for(2, timeout=15)  # it repeats

        with sessions() as db:
            urgent_one = db.scalars(select(Source).where(Source.urgent.is_(True))).one()
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(journalist.url + "/login")
        page.get_by_label("Username").fill("casey")
        page.get_by_label("Passphrase").fill(staff["passphrase"])
        page.get_by_label("Code from your authenticator app").fill(
            pyotp.TOTP(staff["totp_secret"]).now()
        )
        page.get_by_role("button", name="Log in").click()
        expect(
            page.get_by_role("heading", name="Marked urgent by the young person")
        ).to_be_visible()
        first_row = page.locator("table.sources tbody tr").first
        expect(first_row).to_contain_text(urgent_one.designation)
        expect(first_row).to_contain_text("Urgent")
        page.screenshot(path=str(artifacts / "urgent-first-1280.png"), full_page=True)
        page.get_by_role("button", name="I'm dealing with it: stop the alert").click()
        expect(page.get_by_role("status")).to_contain_text("The urgent alert has stopped")
        stopped = len(relay.inbox.messages)
        time.sleep(7)  # two repeat intervals and more
        assert len(relay.inbox.messages) <= stopped + 1  # one may have been on its way
    finally:
        sender.send_signal(signal.SIGTERM)
        assert sender.wait(timeout=15) == 0, (logs / "alerts.log").read_text()
        sender_log.close()
        stop_server(source)
        stop_server(journalist)
        relay.stop()
        subprocess.run(
            ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
        )
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        shutil.rmtree(logs, ignore_errors=True)
        shutil.rmtree(files, ignore_errors=True)
