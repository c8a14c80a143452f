"""Re-authentication before powerful actions (SecureDrop audit SEC-01-010).

An open session is not enough to add staff, change who is an admin, reset or delete another
account, or change one's own passphrase or two-factor: those need the passphrase and a new
one-time code, which open a short window kept in the server-side session.
"""

from __future__ import annotations

import time

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from tests.conftest import csrf_token
from tests.journalist_interface.conftest import (
    exists,
    log_in,
    page_of,
    quiet_moment,
    reauthenticate,
    secrets_on,
    stored,
    submit,
)

COOKIE = "sts_staff"
FAILED = "That didn't work"


def test_an_open_admin_session_alone_cannot_create_an_admin(
    as_admin: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    """The audit's attack: the session and a CSRF token made an admin and got its secrets."""
    token = csrf_token(page_of(as_admin, "/"))
    response = as_admin.post(
        "/admin/staff/new", data={"csrf_token": token, "username": "mallory", "is_admin": "yes"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/reauthenticate"
    assert exists(open_db, "mallory") is None
    assert secrets_on(response.get_data(as_text=True)) == (None, None)


def test_re_authenticating_continues_to_where_the_admin_was_going(
    as_admin: FlaskClient, root: NewStaff, open_db: sessionmaker[Session]
) -> None:
    assert as_admin.get("/admin/staff/new").headers["Location"] == "/reauthenticate"
    page = page_of(as_admin, "/reauthenticate")
    assert "Confirm it's you" in page and "new code" in page
    response = reauthenticate(as_admin, root)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/staff/new"
    added = submit(as_admin, "/admin/staff/new", "/admin/staff/new", username="dana")
    assert added.status_code == 200
    assert exists(open_db, "dana") is not None


def test_a_refused_post_continues_to_the_page_that_holds_its_form(
    as_admin: FlaskClient, root: NewStaff, bob: NewStaff, open_db: sessionmaker[Session]
) -> None:
    manage = f"/admin/staff/{bob.staff.uuid}"
    refused = submit(as_admin, manage, f"{manage}/admin", is_admin="yes")
    assert refused.headers["Location"] == "/reauthenticate"
    assert not stored(open_db, "bob").is_admin
    assert reauthenticate(as_admin, root).headers["Location"] == manage
    assert submit(as_admin, manage, f"{manage}/admin", is_admin="yes").status_code == 302
    assert stored(open_db, "bob").is_admin


def test_where_to_continue_never_comes_from_the_request(
    as_admin: FlaskClient, root: NewStaff
) -> None:
    """No open redirect: a next= in the query or the form is ignored."""
    page = page_of(as_admin, "/reauthenticate?next=https://evil.example/")
    code = pyotp.TOTP(root.totp_secret).at(time.time() + 30)
    response = as_admin.post(
        "/reauthenticate?next=//evil.example/",
        data={
            "csrf_token": csrf_token(page),
            "passphrase": root.passphrase,
            "token": code,
            "next": "https://evil.example/",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_the_code_used_to_log_in_does_not_re_authenticate(
    journalist_client: FlaskClient, root: NewStaff, open_db: sessionmaker[Session]
) -> None:
    now = time.time()
    assert log_in(journalist_client, root, at=now).status_code == 302
    replayed = reauthenticate(journalist_client, root, at=now)
    assert replayed.status_code == 400
    assert FAILED in replayed.get_data(as_text=True)
    no_code = reauthenticate(journalist_client, root, token="")
    assert no_code.status_code == 400
    wrong = reauthenticate(journalist_client, root, passphrase="a guess")
    assert wrong.status_code == 400
    assert journalist_client.get("/admin/staff/new").headers["Location"] == "/reauthenticate"
    assert reauthenticate(journalist_client, root).status_code == 302
    assert journalist_client.get("/admin/staff/new").status_code == 200


def test_failed_re_authentication_counts_towards_the_lockout(
    journalist_app: Flask, as_admin: FlaskClient, root: NewStaff, settings: Settings
) -> None:
    for _ in range(settings.login.max_failures + 1):
        assert reauthenticate(as_admin, root, passphrase="a guess").status_code == 400
    locked = reauthenticate(as_admin, root)
    assert locked.status_code == 429
    assert "locked" in locked.get_data(as_text=True)
    assert as_admin.get("/admin/staff/new").headers["Location"] == "/reauthenticate"
    # The same lock as the login's: guessing here does not get more tries than there.
    browser = journalist_app.test_client()
    assert log_in(browser, root, at=time.time() + 30).status_code == 401


def test_re_authenticating_renews_the_session_id(as_admin: FlaskClient, root: NewStaff) -> None:
    before = as_admin.get_cookie(COOKIE)
    assert reauthenticate(as_admin, root).status_code == 302
    after = as_admin.get_cookie(COOKIE)
    assert before is not None and after is not None and after.value != before.value
    assert "Logged in as root" in page_of(as_admin, "/")


def test_the_window_closes_after_the_configured_minutes(
    reauthed_admin: FlaskClient, settings: Settings
) -> None:
    client = reauthed_admin
    window = settings.login.reauth_minutes * 60
    assert window == 5 * 60
    with client.session_transaction() as session:
        session["reauth_at"] -= window - 60
    assert client.get("/admin/staff/new").status_code == 200
    with client.session_transaction() as session:
        session["reauth_at"] -= 120
    assert client.get("/admin/staff/new").headers["Location"] == "/reauthenticate"


def test_the_window_belongs_to_one_session(
    journalist_app: Flask, journalist_client: FlaskClient, root: NewStaff
) -> None:
    now = quiet_moment()  # three unused steps: two logins and a re-authentication
    assert log_in(journalist_client, root, at=now - 30).status_code == 302
    assert reauthenticate(journalist_client, root, at=now).status_code == 302
    other = journalist_app.test_client()
    assert log_in(other, root, at=now + 30).status_code == 302
    assert other.get("/admin/staff/new").headers["Location"] == "/reauthenticate"
    assert journalist_client.get("/admin/staff/new").status_code == 200


def test_moving_two_factor_needs_a_code_from_the_current_device(
    logged_in: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session]
) -> None:
    """The passphrase alone used to be enough to start moving two-factor to a new device."""
    refused = submit(logged_in, "/account", "/account/two-factor", passphrase=alice.passphrase)
    assert refused.headers["Location"] == "/reauthenticate"
    assert stored(open_db, "alice").pending_totp_secret is None
    assert reauthenticate(logged_in, alice).headers["Location"] == "/account"
    started = submit(logged_in, "/account", "/account/two-factor")
    assert started.status_code == 200
    assert stored(open_db, "alice").pending_totp_secret is not None
