"""Staff login (passphrase and TOTP, replay and lockout) and logout.

That every other route requires a login is checked route by route in test_route_guards.py.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from seethesigns.models import Staff
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from tests.conftest import csrf_token
from tests.journalist_interface.conftest import add_staff, log_in, page_of

GENERIC_FAILURE = "That didn't work. Check your username, passphrase and code"
COOKIE = "sts_staff"


def test_login_success_starts_a_new_session(
    journalist_client: FlaskClient, alice: NewStaff
) -> None:
    journalist_client.get("/login")
    before = journalist_client.get_cookie(COOKIE)
    assert before is not None  # the login form's CSRF token already made a session
    response = log_in(journalist_client, alice)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    after = journalist_client.get_cookie(COOKIE)
    assert after is not None and after.value != before.value  # no session fixation
    page = page_of(journalist_client, "/")
    assert "Logged in as alice" in page
    assert journalist_client.get("/login").headers["Location"] == "/"


def test_wrong_passphrase_and_unknown_username_fail_alike(
    journalist_client: FlaskClient, alice: NewStaff
) -> None:
    wrong = log_in(journalist_client, alice, passphrase="not the passphrase")
    unknown = log_in(journalist_client, alice, username="mallory")
    assert wrong.status_code == unknown.status_code == 401
    assert GENERIC_FAILURE in wrong.get_data(as_text=True)
    assert GENERIC_FAILURE in unknown.get_data(as_text=True)
    assert journalist_client.get("/").status_code == 302


@pytest.mark.parametrize("token", ["", "12345", "abcdef", "1234567", "0" * 200, "stale"])
def test_wrong_or_malformed_code_fails(
    journalist_client: FlaskClient, alice: NewStaff, token: str
) -> None:
    if token == "stale":  # a real code, but from ten minutes ago
        token = pyotp.TOTP(alice.totp_secret).at(time.time() - 600)
    response = log_in(journalist_client, alice, token=token)
    assert response.status_code == 401
    assert GENERIC_FAILURE in response.get_data(as_text=True)
    assert journalist_client.get("/").status_code == 302


@pytest.mark.parametrize(
    "token",
    ["\uff11\uff12\uff13\uff14\uff15\uff16", "²²²²²²", "12345é"],
    ids=["fullwidth", "superscript", "accent"],
)
def test_a_non_ascii_code_fails_like_an_unknown_username_and_counts(
    journalist_client: FlaskClient, alice: NewStaff, settings: Settings, token: str
) -> None:
    """Issue 10: a known username with such a code got a 500, an unknown one a 401."""
    unknown = log_in(journalist_client, alice, username="nobody", token=token)
    assert unknown.status_code == 401
    for _ in range(settings.login.max_failures + 1):
        known = log_in(journalist_client, alice, token=token)
        assert known.status_code == 401
        assert GENERIC_FAILURE in known.get_data(as_text=True)
    # Each one counted: the account is locked now, even for the right details.
    assert log_in(journalist_client, alice).status_code == 401
    assert journalist_client.get("/").status_code == 302


def test_a_code_works_only_once(journalist_client: FlaskClient, alice: NewStaff) -> None:
    now = time.time()
    assert log_in(journalist_client, alice, at=now).status_code == 302
    page = page_of(journalist_client, "/")
    journalist_client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert log_in(journalist_client, alice, at=now).status_code == 401
    # The next step's code is still accepted (one step of drift), so the refusal was the replay.
    assert log_in(journalist_client, alice, at=now + 30).status_code == 302


def test_five_failures_do_not_lock_the_account(
    journalist_client: FlaskClient, alice: NewStaff
) -> None:
    for _ in range(5):
        assert log_in(journalist_client, alice, passphrase="guess").status_code == 401
    assert log_in(journalist_client, alice).status_code == 302


def test_more_than_five_failures_lock_out_even_the_right_details(
    journalist_client: FlaskClient, alice: NewStaff
) -> None:
    for _ in range(6):
        assert log_in(journalist_client, alice, passphrase="guess").status_code == 401
    response = log_in(journalist_client, alice)
    assert response.status_code == 401
    assert "locked for a few minutes" in response.get_data(as_text=True)
    assert journalist_client.get("/").status_code == 302


def test_a_locked_account_looks_like_any_failed_login(
    journalist_client: FlaskClient, alice: NewStaff
) -> None:
    for _ in range(6):
        log_in(journalist_client, alice, passphrase="guess")
    locked = log_in(journalist_client, alice)
    unknown = log_in(journalist_client, alice, username="nobody-by-this-name")
    assert locked.status_code == unknown.status_code == 401

    def page(response: TestResponse, username: str) -> str:
        text = response.get_data(as_text=True).replace(username, "USERNAME")
        return re.sub(r'name="csrf_token" value="[^"]*"', "", text)  # signed with a timestamp

    assert page(locked, alice.staff.username) == page(unknown, "nobody-by-this-name")


def test_typed_username_is_escaped(journalist_client: FlaskClient, alice: NewStaff) -> None:
    response = log_in(journalist_client, alice, username="<b>x</b>")
    page = response.get_data(as_text=True)
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert "<b>x</b>" not in page


def test_logout_is_a_post_protected_by_csrf(journalist_app: Flask, logged_in: FlaskClient) -> None:
    # TESTING=True does not switch Flask-WTF's CSRF check off; only WTF_CSRF_ENABLED would.
    assert journalist_app.config["TESTING"] is True
    assert journalist_app.config["WTF_CSRF_ENABLED"] is True
    assert logged_in.get("/logout").status_code == 405
    refused = logged_in.post("/logout")
    assert refused.status_code == 400
    assert "The form had expired" in refused.get_data(as_text=True)
    assert logged_in.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    page = page_of(logged_in, "/")  # still logged in
    response = logged_in.post("/logout", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert logged_in.get("/").headers["Location"] == "/login"


def test_logout_ends_the_session_on_the_server(logged_in: FlaskClient) -> None:
    cookie = logged_in.get_cookie(COOKIE)
    assert cookie is not None
    page = page_of(logged_in, "/")
    logged_in.post("/logout", data={"csrf_token": csrf_token(page)})
    logged_in.set_cookie(COOKIE, cookie.value)  # a copy of the old cookie opens nothing
    assert logged_in.get("/").status_code == 302


def test_deleted_account_is_logged_out(
    logged_in: FlaskClient, alice: NewStaff, open_db: sessionmaker[Session], settings: Settings
) -> None:
    with open_db() as db:
        db.execute(delete(Staff).where(Staff.username == "alice"))
        db.commit()
    # SQLite hands the freed id to the next account; alice's session must not become carol's.
    # (PostgreSQL's sequences never hand an id out twice.)
    carol = add_staff(open_db, settings, "carol")
    if settings.database_url.startswith("sqlite"):
        assert carol.staff.id == alice.staff.id
    response = logged_in.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
