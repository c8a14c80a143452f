"""Two app servers of one instance, as behind Onionbalance: shared state stays correct.

Each interface runs twice, as two separate gunicorn processes with their own engines and pools,
on one database and one store directory (with SEETHESIGNS_TEST_DATABASE=postgresql, one
PostgreSQL server, as several machines would share). A person's requests land on either one,
so sessions, CSRF tokens, lockout and the one-time TOTP step must live in the database, and
nothing may be cached in a process where it could go stale.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pyotp
import pytest
import requests
from sqlalchemy import select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import Staff
from tests.conftest import OfflineKey, make_instance, short_tmpdir
from tests.databases import TemplateDatabase
from tests.integration.conftest import (
    SEETHESIGNS,
    LiveInstance,
    Server,
    csrf,
    fresh_staff,
    new_source,
    start_server,
    stop_server,
)


@dataclass
class Pair:
    """One instance served twice: `one` and `two` are LiveInstance views of each server."""

    one: LiveInstance
    two: LiveInstance


@pytest.fixture(scope="module")
def pair(offline_key: OfflineKey, template_database: TemplateDatabase) -> Iterator[Pair]:
    # With [alerts], reports fill the shared outbox; no sender runs (the apps never mail).
    alerts = '\n[alerts]\nhost = "localhost"\nport = 2525\nfrom = "alerts@seethesigns.invalid"\n'
    settings = make_instance(offline_key, template_database, extra=alerts)
    config = settings.data_dir / "seethesigns.toml"
    servers: list[Server] = []
    views = []
    for number in (1, 2):
        log_dir = short_tmpdir(f"sts2s{number}")
        source = start_server("source", config, log_dir)
        journalist = start_server("journalist", config, log_dir)
        servers += [source, journalist]
        views.append(LiveInstance(settings, config, source, journalist, {}, log_dir))
    yield Pair(*views)
    for server in servers:
        stop_server(server)
    subprocess.run(
        ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
    )
    template_database.drop(settings.database_url)
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    for view in views:
        shutil.rmtree(view.log_dir, ignore_errors=True)


def test_the_servers_are_separate_processes(pair: Pair) -> None:
    assert pair.one.source.process.pid != pair.two.source.process.pid
    assert set(pair.one.journalist.worker_pids()).isdisjoint(pair.two.journalist.worker_pids())


def test_a_source_starts_on_one_server_and_sends_through_the_other(
    pair: Pair, offline_key: OfflineKey
) -> None:
    """The session and its CSRF token, made by one server, are honoured by the other."""
    browser = requests.Session()
    codename = new_source(pair.one.source.url, browser)
    page = browser.get(pair.one.source.url + "/lookup").text
    sent = browser.post(
        pair.two.source.url + "/submit",
        data={"csrf_token": csrf(page), "msg": "sent through the second server"},
        allow_redirects=False,
    )
    assert sent.status_code == 302, sent.text[:500]
    # Logged out on the second server, the codename logs in on the first again.
    browser.get(pair.two.source.url + "/logout")
    again = requests.Session()
    login = again.get(pair.one.source.url + "/login").text
    answer = again.post(
        pair.one.source.url + "/login",
        data={"csrf_token": csrf(login), "codename": codename},
        allow_redirects=False,
    )
    assert answer.status_code == 302
    assert again.get(pair.two.source.url + "/lookup", allow_redirects=False).status_code == 200


def _login(url: str, staff: dict[str, str], code: str) -> requests.Response:
    http = requests.Session()
    page = http.get(url + "/login").text
    form = {"username": staff["username"], "passphrase": staff["passphrase"], "token": code}
    return http.post(url + "/login", data={**form, "csrf_token": csrf(page)}, allow_redirects=False)


def test_a_totp_code_used_on_one_server_is_refused_on_the_other(pair: Pair) -> None:
    staff = fresh_staff(pair.one)
    code = pyotp.TOTP(staff["totp_secret"]).now()
    assert _login(pair.one.journalist.url, staff, code).status_code == 302
    refused = _login(pair.two.journalist.url, staff, code)
    assert refused.status_code == 401
    assert "Location" not in refused.headers


def test_a_staff_session_from_one_server_works_on_the_other(pair: Pair) -> None:
    staff = fresh_staff(pair.one)
    http = requests.Session()
    page = http.get(pair.one.journalist.url + "/login").text
    form = {"username": staff["username"], "passphrase": staff["passphrase"]}
    form |= {"token": pyotp.TOTP(staff["totp_secret"]).now(), "csrf_token": csrf(page)}
    assert http.post(pair.one.journalist.url + "/login", data=form, allow_redirects=False).ok
    listing = http.get(pair.two.journalist.url + "/", allow_redirects=False)
    assert listing.status_code == 200
    # Logging out on the second server ends the session on the first too.
    logout = http.post(
        pair.two.journalist.url + "/logout",
        data={"csrf_token": csrf(listing.text)},
        allow_redirects=False,
    )
    assert logout.status_code in (302, 303)
    assert http.get(pair.one.journalist.url + "/", allow_redirects=False).status_code == 302


def test_failed_logins_on_both_servers_count_towards_one_lockout(pair: Pair) -> None:
    staff = fresh_staff(pair.one)
    limit = pair.one.settings.login.max_failures
    wrong = {**staff, "passphrase": "not the passphrase at all"}
    for attempt in range(limit + 1):
        server = (pair.one, pair.two)[attempt % 2]
        assert _login(server.journalist.url, wrong, "000000").status_code == 401
    with make_session_factory(make_engine(pair.one.settings.database_url))() as db:
        locked = db.scalar(select(Staff.locked_until).where(Staff.username == staff["username"]))
    assert locked is not None
    # Locked on both: even the right passphrase and code get nowhere, on either server.
    code = pyotp.TOTP(staff["totp_secret"]).now()
    for server in (pair.one, pair.two):
        assert _login(server.journalist.url, staff, code).status_code == 401


def test_the_cli_and_both_servers_see_the_same_new_staff(pair: Pair) -> None:
    """Nothing about accounts is cached per process: one made now logs in on either server."""
    made = subprocess.run(
        [str(SEETHESIGNS), "add-staff", "dana", "--json", "--config", str(pair.one.config)],
        capture_output=True,
        text=True,
        check=True,
    )
    dana = json.loads(made.stdout)
    code = pyotp.TOTP(dana["totp_secret"]).now()
    answer = _login(pair.two.journalist.url, dana, code)
    assert answer.headers.get("Location") == "/first-login", answer.status_code


def _staff_session(server: LiveInstance) -> requests.Session:
    staff = fresh_staff(server)
    http = requests.Session()
    page = http.get(server.journalist.url + "/login").text
    form = {"username": staff["username"], "passphrase": staff["passphrase"]}
    form |= {"token": pyotp.TOTP(staff["totp_secret"]).now(), "csrf_token": csrf(page)}
    assert http.post(server.journalist.url + "/login", data=form, allow_redirects=False).ok
    return http


def test_an_urgent_report_on_one_server_alerts_staff_on_the_other(pair: Pair) -> None:
    """The urgent banner (and the outbox the one alert sender reads) is shared; so is its end."""
    staff = _staff_session(pair.one)
    assert 'class="urgent-banner"' not in staff.get(pair.one.journalist.url + "/").text
    browser = requests.Session()
    new_source(pair.two.source.url, browser)
    page = browser.get(pair.two.source.url + "/lookup").text
    sent = browser.post(
        pair.two.source.url + "/submit",
        data={"csrf_token": csrf(page), "msg": "They are outside now.", "urgent": "1"},
        allow_redirects=False,
    )
    assert sent.status_code == 302, sent.text[:500]
    listing = staff.get(pair.one.journalist.url + "/").text
    assert 'class="urgent-banner"' in listing
    done = staff.post(
        pair.two.journalist.url + "/alerts/acknowledge",
        data={"csrf_token": csrf(listing)},
        allow_redirects=False,
    )
    assert done.status_code in (302, 303)
    for server in (pair.one, pair.two):
        assert 'class="urgent-banner"' not in staff.get(server.journalist.url + "/").text
