"""A staff member's own account, and how long a staff session lasts."""

from __future__ import annotations

import time

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff, StaffAccounts
from tests.journalist_interface.conftest import (
    log_in,
    page_of,
    quiet_moment,
    reauthenticate,
    secrets_on,
    stored,
    submit,
)

COOKIE = "sts_staff"


@pytest.fixture
def reauthed(journalist_client: FlaskClient, alice: NewStaff) -> FlaskClient:
    """Alice's browser, logged in and re-authenticated, so she may change her secrets.

    The login takes the previous time step's code and the re-authentication this step's, so
    the next step's code is still free for one more login of hers (a code works once).
    """
    now = quiet_moment()
    assert log_in(journalist_client, alice, at=now - 30).status_code == 302
    assert reauthenticate(journalist_client, alice, at=now).status_code == 302
    return journalist_client


@pytest.fixture
def second_browser(journalist_app: Flask, alice: NewStaff, reauthed: FlaskClient) -> FlaskClient:
    """Another session of alice's, started with the next time step's code."""
    client = journalist_app.test_client()
    assert log_in(client, alice, at=time.time() + 30).status_code == 302
    return client


def start_new_device(client: FlaskClient, **extra: str) -> str:
    """Ask for a new two-factor secret on the account page; return the secret shown."""
    response = submit(client, "/account", "/account/two-factor", **extra)
    assert response.status_code == 200
    _, secret = secrets_on(response.get_data(as_text=True))
    assert secret is not None
    return secret


def confirm(client: FlaskClient, secret: str, at: float) -> int:
    """Type a code from the new device into the account page; return the status."""
    token = pyotp.TOTP(secret).at(at)
    return submit(client, "/account", "/account/two-factor/confirm", token=token).status_code


def test_change_display_name(logged_in: FlaskClient, open_db: sessionmaker[Session]) -> None:
    response = submit(logged_in, "/account", "/account/name", display_name=" Alice H ")
    assert response.status_code == 302
    assert "Display name saved" in page_of(logged_in, response.headers["Location"])
    assert stored(open_db, "alice").display_name == "Alice H"
    refused = submit(logged_in, "/account", "/account/name", display_name="x" * 129)
    assert refused.status_code == 400
    assert stored(open_db, "alice").display_name == "Alice H"


def test_new_passphrase_needs_a_recent_re_authentication(
    logged_in: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    """The current passphrase alone is no longer enough: see test_reauth.py."""
    response = submit(logged_in, "/account", "/account/passphrase", passphrase=alice.passphrase)
    assert response.headers["Location"] == "/reauthenticate"
    assert secrets_on(response.get_data(as_text=True)) == (None, None)
    after = stored(open_db, "alice")
    assert after.passphrase_hash == alice.staff.passphrase_hash


def test_new_passphrase_is_shown_once_and_ends_other_sessions(
    reauthed: FlaskClient,
    second_browser: FlaskClient,
    alice: NewStaff,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    before = reauthed.get_cookie(COOKIE)
    response = submit(reauthed, "/account", "/account/passphrase")
    assert response.status_code == 200
    passphrase, _ = secrets_on(response.get_data(as_text=True))
    assert passphrase is not None and passphrase != alice.passphrase
    accounts = StaffAccounts(settings.argon2, settings.login)
    after = stored(open_db, "alice")
    assert accounts.hasher.verify(after.passphrase_hash, passphrase)
    assert second_browser.get("/").headers["Location"] == "/login"
    # This session carries on, under a new id.
    assert "Your account" in page_of(reauthed, "/account")
    assert reauthed.get_cookie(COOKIE).value != before.value
    assert passphrase not in page_of(reauthed, "/account")


def test_a_new_device_does_not_count_until_confirmed(
    reauthed: FlaskClient, journalist_app: Flask, alice: NewStaff
) -> None:
    new = start_new_device(reauthed)
    browser = journalist_app.test_client()
    later = time.time() + 30
    on_new_device = NewStaff(alice.staff, alice.passphrase, new)
    assert log_in(browser, on_new_device, at=later).status_code == 401
    assert log_in(browser, alice, at=later).status_code == 302
    assert "Waiting for a code from your new device" in page_of(reauthed, "/account")


def test_once_confirmed_the_new_device_replaces_the_old(
    reauthed: FlaskClient, journalist_app: Flask, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    now = time.time()
    new = start_new_device(reauthed)
    assert confirm(reauthed, new, now) == 302
    assert "Your new device is confirmed" in page_of(reauthed, "/account?notice=two_factor_changed")
    after = stored(open_db, "alice")
    assert after.totp_secret == new and after.pending_totp_secret is None
    browser = journalist_app.test_client()
    assert log_in(browser, alice, at=now + 30).status_code == 401
    on_new_device = NewStaff(alice.staff, alice.passphrase, new)
    assert log_in(browser, on_new_device, at=now + 30).status_code == 302


def test_confirming_a_new_device_ends_other_sessions(
    reauthed: FlaskClient, second_browser: FlaskClient, alice: NewStaff
) -> None:
    new = start_new_device(reauthed)
    assert second_browser.get("/").status_code == 200  # starting changes nothing yet
    assert confirm(reauthed, new, time.time()) == 302
    assert second_browser.get("/").headers["Location"] == "/login"
    assert reauthed.get("/").status_code == 200


def test_a_wrong_code_does_not_show_the_secret_again(
    reauthed: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    new = start_new_device(reauthed)
    response = submit(reauthed, "/account", "/account/two-factor/confirm", token="123456")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "doesn't match the new device" in page
    assert "<svg" not in page and new[:8] not in page.replace(" ", "")
    assert stored(open_db, "alice").totp_secret == alice.totp_secret


def test_a_non_ascii_code_for_the_new_device_is_a_wrong_code(
    reauthed: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    """Issue 10: fullwidth digits made hmac.compare_digest raise TypeError (a 500)."""
    start_new_device(reauthed)
    response = submit(
        reauthed,
        "/account",
        "/account/two-factor/confirm",
        token="\uff11\uff12\uff13\uff14\uff15\uff16",
    )
    assert response.status_code == 400
    assert "doesn't match the new device" in response.get_data(as_text=True)
    assert stored(open_db, "alice").totp_secret == alice.totp_secret


def test_account_routes_only_ever_touch_your_own_account(
    reauthed: FlaskClient,
    as_bob: FlaskClient,
    alice: NewStaff,
    bob: NewStaff,
    open_db: sessionmaker[Session],
) -> None:
    """SecureDrop audit SEC-01-001: nothing in the request can name another account."""
    for_alice = {"staff_uuid": alice.staff.uuid, "staff_id": str(alice.staff.id)}
    assert reauthenticate(as_bob, bob).status_code == 302
    bobs_new = start_new_device(as_bob, **for_alice)
    assert stored(open_db, "alice").pending_totp_secret is None
    assert stored(open_db, "bob").pending_totp_secret == bobs_new
    alices_new = start_new_device(reauthed)
    token = pyotp.TOTP(alices_new).at(time.time())
    stolen = submit(as_bob, "/account", "/account/two-factor/confirm", token=token, **for_alice)
    assert stolen.status_code == 400
    admin_route = f"/admin/staff/{alice.staff.uuid}/two-factor/confirm"
    assert submit(as_bob, "/account", admin_route, token=token).status_code == 403
    after = stored(open_db, "alice")
    assert after.totp_secret == alice.totp_secret and after.pending_totp_secret == alices_new
    assert stored(open_db, "bob").totp_secret == bob.totp_secret


def test_a_session_ends_at_the_absolute_limit_however_busy(
    logged_in: FlaskClient, settings: Settings
) -> None:
    limit = settings.login.session_max_minutes * 60
    assert limit == 8 * 3600
    with logged_in.session_transaction() as session:
        session["login_at"] -= limit - 60
    assert logged_in.get("/account").status_code == 200  # activity renews it up to the limit
    with logged_in.session_transaction() as session:
        session["login_at"] -= 120
    response = logged_in.get("/account")
    assert response.headers["Location"] == "/login"
    assert logged_in.get("/").headers["Location"] == "/login"  # and the session is gone


def test_a_session_without_a_login_time_or_epoch_is_not_trusted(
    journalist_app: Flask, alice: NewStaff
) -> None:
    now = time.time()
    for key, at in (("login_at", now), ("epoch", now + 30)):
        client = journalist_app.test_client()
        assert log_in(client, alice, at=at).status_code == 302
        with client.session_transaction() as session:
            del session[key]
        assert client.get("/").headers["Location"] == "/login", key
