"""A real browser: Debian's Chromium driven by Playwright, a folder for screenshots, and
a whole site that sends alerts: both interfaces, the alert sender and a real SMTP relay."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.front.nginx import HttpsFront
from seethesigns.models import Source, Staff
from seethesigns.models.base import utcnow
from seethesigns.onion import OnionKeys
from seethesigns.replies import send_reply
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.storage import Store
from source_interface import create_app
from source_interface.session_state import WAITING_SINCE
from tests.certificates import TestAuthority
from tests.conftest import OfflineKey, make_instance, remove_submission_key, short_tmpdir
from tests.databases import TemplateDatabase
from tests.integration.conftest import (
    SEETHESIGNS,
    Server,
    activate_named,
    free_port,
    front_config,
    live,  # noqa: F401 - re-exported fixture
    start_nginx,
    start_server,
    stop_nginx,
    stop_server,
)
from tests.seethesigns.alerts.conftest import alerts_section
from tests.seethesigns.alerts.relay import PASSWORD, Inbox, Relay, self_signed

CHROMIUM = Path("/usr/bin/chromium")
HTTPS_DOMAIN = "report.seethesigns.test"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Headless, no sandbox (CI runs as root), and nothing that phones home: the machine has no
# network beyond loopback, and background fetches only slow Chromium down.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def authority() -> Iterator[TestAuthority]:
    """The tests' own CA, trusted by Chromium as a public one is (issue 17): through the NSS
    database in its home folder, where Chromium on Linux finds locally trusted roots."""
    home = short_tmpdir("stschrome")
    made = TestAuthority(home)
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    certutil = shutil.which("certutil")
    if certutil is None:
        pytest.fail("certutil is not installed: `make system-packages` installs libnss3-tools")
    subprocess.run([certutil, "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True)
    subprocess.run(
        [certutil, "-A", "-d", f"sql:{nssdb}", "-n", "seethesigns-test-ca", "-t", "C,,",
         "-i", str(made.path)],
        check=True,
    )  # fmt: skip
    yield made
    shutil.rmtree(home, ignore_errors=True)


def chromium_env(authority: TestAuthority) -> dict[str, str]:
    """Chromium's environment: its home holds the NSS database that trusts the test CA."""
    return {**os.environ, "HOME": str(authority.directory)}


@pytest.fixture(scope="session")
def browser(authority: TestAuthority) -> Iterator[Browser]:
    """One headless Chromium for the session."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: run `make system-packages`")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            env=chromium_env(authority),
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page, at a phone's width."""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """A folder for this test's screenshots, under test-artifacts/."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def type_back_words(page: Page, *, wrong: bool = False) -> None:
    """Type the two words the codename page asks for, reading "Word 3" as a person would."""
    words = page.locator("#codename").inner_text().split()
    for field in ("word_a", "word_b"):
        label = page.locator(f"label[for={field}]").inner_text()
        asked = re.search(r"\d", label)
        assert asked, label
        page.locator(f"#{field}").fill("wrong" if wrong else words[int(asked.group()) - 1])


@dataclass
class SmallSource:
    """A source interface under gunicorn whose upload limit is small enough to reach."""

    settings: Settings
    server: Server
    offline_key: OfflineKey
    # Set when reached through the HTTPS front (issue 17) instead of straight from gunicorn.
    front_url: str | None = None

    @property
    def url(self) -> str:
        """Where it answers."""
        return self.front_url or self.server.url

    def break_submission_key(self) -> None:
        """Delete the submission key, so the site closes (the 503 page)."""
        remove_submission_key(self.settings)

    def reply_to_newest_source(self, *texts: str) -> None:
        """Staff reply, through the domain code, to the source made last."""
        with make_session_factory(make_engine(self.settings.database_url))() as db:
            staff = db.scalar(select(Staff).where(Staff.username == "replier"))
            if staff is None:
                accounts = StaffAccounts(self.settings.argon2, self.settings.login)
                staff = accounts.create(db, "replier").staff
            source = db.scalars(select(Source).order_by(Source.id.desc())).first()
            assert source is not None
            gpg = GpgService(
                self.settings.gnupg_homedir,
                self.settings.submission_key_fingerprint,
                self.settings.tmp_dir,
            )
            for text in texts:
                send_reply(db, Store(self.settings.store_dir), gpg, source, staff, text)

    def start_wait_earlier(self, page: Page, ago: timedelta) -> None:
        """Move the start of the browser's wait for a reply back, in its server-side session.

        Through the app's own session interface (a test client holding the browser's cookie),
        so the session stays sealed as the server writes it; waiting out the minutes would
        make the test that long.
        """
        client = create_app(self.settings).test_client()
        for cookie in page.context.cookies(self.url):
            client.set_cookie(cookie["name"], cookie["value"])
        with client.session_transaction() as session:
            assert "fsid" in session, "the browser is not logged in"
            session[WAITING_SINCE] = (utcnow() - ago).isoformat()

    def mend_submission_key(self) -> None:
        """Put the submission key back."""
        gpg = GpgService(self.settings.gnupg_homedir, "", self.settings.tmp_dir)
        gpg.import_submission_key(self.offline_key.public_key)


@pytest.fixture(scope="session")
def small_source(
    offline_key: OfflineKey, template_database: TemplateDatabase
) -> Iterator[SmallSource]:
    """The source interface alone, taking uploads of up to 1 MiB, so a 413 page can be seen.

    One for the session: every source page test in the browser shares it (each starts as a
    new source in a fresh browser context), so gunicorn starts once.
    """
    settings = make_instance(offline_key, template_database, max_bytes=1024 * 1024)
    log_dir = short_tmpdir("stslog")
    server = start_server("source", settings.data_dir / "seethesigns.toml", log_dir)
    yield SmallSource(settings, server, offline_key)
    stop_server(server)
    subprocess.run(
        ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
    )
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    shutil.rmtree(log_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def https_front(small_source: SmallSource, authority: TestAuthority) -> Iterator[str]:
    """nginx's HTTPS front (issue 17) before small_source's gunicorn; its URL."""
    directory = short_tmpdir("stsfront")
    issued = authority.issue(HTTPS_DOMAIN, "127.0.0.1")
    https = HttpsFront(
        domain=HTTPS_DOMAIN,
        certificate=issued.certificate,
        certificate_key=issued.key,
        onion_address=OnionKeys(small_source.settings.tor.keys_dir).service_key("source").address,
        port=free_port(),
        http_port=None,
        listen_addresses=("127.0.0.1",),
    )
    upstream = "127.0.0.1:" + small_source.server.url.rsplit(":", 1)[1]
    config = front_config(
        directory,
        directory,
        max_upload_bytes=1024 * 1024,
        source_upstream=upstream,
        journalist_upstream=upstream,
        https=https,
    )
    nginx = start_nginx(config, directory)
    yield f"https://127.0.0.1:{https.port}"
    stop_nginx(nginx)
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["direct", "https"])
def any_source(request: pytest.FixtureRequest, small_source: SmallSource) -> SmallSource:
    """small_source straight from gunicorn (as behind the onion), then through the HTTPS front."""
    if request.param == "direct":
        return small_source
    return replace(small_source, front_url=request.getfixturevalue("https_front"))


def log_in(page: Page, url: str, username: str, passphrase: str, totp_secret: str) -> None:
    """Fill in the staff login form with the current code from the authenticator."""
    page.goto(url + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Passphrase").fill(passphrase)
    page.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(totp_secret).now())
    page.get_by_role("button", name="Log in").click()


@dataclass
class AlertingSite:
    """Both interfaces under gunicorn, `seethesigns alerts run`, and the relay it sends to.

    casey, an active staff member (not an admin), receives the alerts at casey@example.org.
    """

    settings: Settings
    config: Path
    source: Server
    journalist: Server
    relay: Relay
    staff: dict[str, str]

    def add_staff(self, username: str, *, admin: bool = False) -> dict[str, str]:
        """Another account, made with `seethesigns add-staff`, active as after a first login."""
        return add_staff(self.settings, username, admin=admin)


def add_staff(settings: Settings, username: str, *, admin: bool = False) -> dict[str, str]:
    """An account made by the operator's command; active, as if its first login were done."""
    command = [str(SEETHESIGNS), "add-staff", username, "--json"]
    command += ["--admin"] if admin else []
    made = subprocess.run(
        [*command, "--config", str(settings.data_dir / "seethesigns.toml")],
        capture_output=True,
        text=True,
        check=True,
    )
    activate_named(settings, username)
    found: dict[str, str] = json.loads(made.stdout)
    return found


def _stop_sender(sender: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM, as systemd stops it; it must finish what it is sending and exit 0."""
    sender.send_signal(signal.SIGTERM)
    assert sender.wait(timeout=15) == 0, log.read_text()


@pytest.fixture
def alerting_site(
    offline_key: OfflineKey, template_database: TemplateDatabase
) -> Iterator[AlertingSite]:
    """A fresh site whose urgent alerts repeat every 3 s, polled as deployed (every 2 s)."""
    with ExitStack() as cleanup:
        files = short_tmpdir("stsrelay")
        cleanup.callback(shutil.rmtree, files, ignore_errors=True)
        cert, key = self_signed(files)
        (files / "password").write_text(PASSWORD)
        relay = Relay(free_port(), cert, key, Inbox())
        relay.start()
        cleanup.callback(relay.stop)
        extra = alerts_section(relay, files, urgent_repeat_minutes="0.05")
        settings = make_instance(
            offline_key, template_database, extra=extra.replace("poll_seconds = 0.05\n", "")
        )
        cleanup.callback(shutil.rmtree, settings.data_dir, ignore_errors=True)
        cleanup.callback(
            subprocess.run,
            ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"],
            check=False,
        )
        config = settings.data_dir / "seethesigns.toml"
        logs = short_tmpdir("stslog")
        cleanup.callback(shutil.rmtree, logs, ignore_errors=True)
        staff = add_staff(settings, "casey")
        with make_session_factory(make_engine(settings.database_url))() as db:
            account = db.scalars(select(Staff).where(Staff.username == "casey")).one()
            account.alerts_enabled, account.alert_address = True, "casey@example.org"
            db.commit()
        source = start_server("source", config, logs)
        cleanup.callback(stop_server, source)
        journalist = start_server("journalist", config, logs)
        cleanup.callback(stop_server, journalist)
        sender_log = logs / "alerts.log"
        with sender_log.open("wb") as handle:
            sender = subprocess.Popen(
                [str(SEETHESIGNS), "alerts", "run", "--config", str(config)],
                stdout=handle,
                stderr=handle,
            )
        cleanup.callback(_stop_sender, sender, sender_log)
        yield AlertingSite(settings, config, source, journalist, relay, staff)
