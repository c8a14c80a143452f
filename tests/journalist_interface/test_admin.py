"""Admins managing staff in the web interface: adding, admin rights, resets, deletion."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from journalist_interface.totp_qr import qr_svg
from seethesigns.instance_settings import instance_config
from seethesigns.models import Reply
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from tests.conftest import csrf_token
from tests.journalist_interface.conftest import (
    Reported,
    complete_first_login,
    exists,
    log_in,
    page_of,
    secrets_on,
    stored,
    submit,
)


def test_admin_adds_someone_who_logs_in_with_what_was_shown(
    reauthed_admin: FlaskClient,
    journalist_app: Flask,
    open_db: sessionmaker[Session],
) -> None:
    response = submit(reauthed_admin, "/admin/staff/new", "/admin/staff/new", username="dana")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    passphrase, secret = secrets_on(page)
    assert passphrase is not None and len(passphrase.split(" ")) >= 7
    assert secret is not None
    dana = stored(open_db, "dana")
    assert not dana.is_admin
    assert dana.totp_secret == secret
    browser = journalist_app.test_client()
    assert log_in(browser, NewStaff(dana, passphrase, secret)).status_code == 302
    complete_first_login(browser, NewStaff(dana, passphrase, secret))
    assert "Logged in as dana" in page_of(browser, "/account")
    # Shown once: the account's page does not show them again.
    again = page_of(reauthed_admin, f"/admin/staff/{dana.uuid}")
    assert passphrase not in again and secret[:8] not in again.replace(" ", "")


def test_the_qr_code_is_inline_svg_of_the_shown_secret(reauthed_admin: FlaskClient) -> None:
    response = submit(reauthed_admin, "/admin/staff/new", "/admin/staff/new", username="dana")
    page = response.get_data(as_text=True)
    _, secret = secrets_on(page)
    assert secret is not None
    assert str(qr_svg(secret, "dana")) in page
    assert "<script" not in page.lower()
    assert "data:" not in page  # CSP img-src 'self' would block a data: URI
    assert "img-src 'self'" in response.headers["Content-Security-Policy"]


def test_an_admin_can_be_added(reauthed_admin: FlaskClient, open_db: sessionmaker[Session]) -> None:
    submit(reauthed_admin, "/admin/staff/new", "/admin/staff/new", username="erin", is_admin="yes")
    assert stored(open_db, "erin").is_admin


@pytest.mark.parametrize(
    ("username", "message"), [("bob", "already exists"), ("  ", "1 to 64 printable")]
)
def test_a_taken_or_bad_username_is_refused(
    reauthed_admin: FlaskClient, bob: NewStaff, username: str, message: str
) -> None:
    response = submit(reauthed_admin, "/admin/staff/new", "/admin/staff/new", username=username)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page.replace("&#39;", "'")
    assert secrets_on(page) == (None, None)


def admin_routes(app: Flask, staff_uuid: str) -> list[tuple[str, str]]:
    """Every (method, url) of the admin pages."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin_"):
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{n: staff_uuid for n in rule.arguments})
        found += [(m, url) for m in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    return found


def test_a_non_admin_is_refused_on_every_admin_route(
    journalist_app: Flask,
    as_bob: FlaskClient,
    root: NewStaff,
    open_db: sessionmaker[Session],
) -> None:
    routes = admin_routes(journalist_app, root.staff.uuid)
    assert len(routes) >= 12
    for method, url in routes:
        token = csrf_token(page_of(as_bob, "/account"))
        response = as_bob.open(
            url,
            method=method,
            data={"csrf_token": token, "is_admin": "yes", "confirm": "yes", "username": "eve"},
        )
        assert response.status_code == 403, (method, url, response.status_code)
        assert "Admins only" in response.get_data(as_text=True)
    after = stored(open_db, "root")
    assert after.passphrase_hash == root.staff.passphrase_hash
    assert after.totp_secret == root.totp_secret and after.pending_totp_secret is None
    assert not stored(open_db, "bob").is_admin
    assert exists(open_db, "eve") is None
    assert "Staff</a>" not in page_of(as_bob, "/")  # and no links to what they cannot use


def test_admin_routes_refuse_a_post_without_csrf_token(
    journalist_app: Flask, as_admin: FlaskClient, bob: NewStaff, open_db: sessionmaker[Session]
) -> None:
    for method, url in admin_routes(journalist_app, bob.staff.uuid):
        if method == "POST":
            response = as_admin.post(url, data={"is_admin": "yes", "confirm": "yes"})
            assert response.status_code == 400, url
    assert exists(open_db, "bob") is not None
    assert not stored(open_db, "bob").is_admin


def test_make_admin_and_take_it_away(
    reauthed_admin: FlaskClient, bob: NewStaff, open_db: sessionmaker[Session], as_bob: FlaskClient
) -> None:
    manage = f"/admin/staff/{bob.staff.uuid}"
    response = submit(reauthed_admin, manage, f"{manage}/admin", is_admin="yes")
    assert response.status_code == 302
    assert "bob is now an admin" in page_of(reauthed_admin, response.headers["Location"])
    assert "Settings</a>" in page_of(as_bob, "/")  # takes effect on bob's next request
    submit(reauthed_admin, manage, f"{manage}/admin", is_admin="no")
    assert not stored(open_db, "bob").is_admin
    assert as_bob.get("/admin/staff").status_code == 403


def test_the_last_admin_cannot_give_up_admin(
    reauthed_admin: FlaskClient, root: NewStaff, open_db: sessionmaker[Session]
) -> None:
    manage = f"/admin/staff/{root.staff.uuid}"
    response = submit(reauthed_admin, manage, f"{manage}/admin", is_admin="no")
    assert response.status_code == 409
    assert "at least one admin" in response.get_data(as_text=True)
    assert stored(open_db, "root").is_admin


def test_passphrase_reset_shows_a_new_one_and_ends_their_sessions(
    reauthed_admin: FlaskClient,
    as_bob: FlaskClient,
    bob: NewStaff,
    journalist_app: Flask,
) -> None:
    manage = f"/admin/staff/{bob.staff.uuid}"
    response = submit(reauthed_admin, manage, f"{manage}/passphrase")
    assert response.status_code == 200
    passphrase, secret = secrets_on(response.get_data(as_text=True))
    assert passphrase is not None and passphrase != bob.passphrase and secret is None
    assert as_bob.get("/").headers["Location"] == "/login"  # session_epoch moved on
    browser = journalist_app.test_client()
    later = time.time() + 30
    assert log_in(browser, bob, at=later).status_code == 401
    assert log_in(browser, bob, at=later, passphrase=passphrase).status_code == 302
    # The admin knows this passphrase now: bob must choose his own before anything else.
    assert browser.get("/").headers["Location"] == "/first-login"


def test_two_factor_reset_is_handed_over_and_confirmed_by_the_admin(
    reauthed_admin: FlaskClient,
    journalist_app: Flask,
    bob: NewStaff,
    open_db: sessionmaker[Session],
) -> None:
    now = time.time()
    bobs_browser = journalist_app.test_client()
    assert log_in(bobs_browser, bob, at=now).status_code == 302
    manage = f"/admin/staff/{bob.staff.uuid}"
    response = submit(reauthed_admin, manage, f"{manage}/two-factor")
    page = response.get_data(as_text=True)
    _, new = secrets_on(page)
    assert new is not None and new != bob.totp_secret
    assert "<svg" in page
    assert bobs_browser.get("/").headers["Location"] == "/login"
    # The old device stopped working; the new secret works only once confirmed.
    browser = journalist_app.test_client()
    later = now + 30  # a step no login has used yet: a refusal is not a replay
    assert log_in(browser, bob, at=later).status_code == 401
    assert log_in(browser, NewStaff(bob.staff, bob.passphrase, new), at=later).status_code == 401
    wrong = submit(reauthed_admin, manage, f"{manage}/two-factor/confirm", token="000000")
    assert wrong.status_code == 400
    code = pyotp.TOTP(new).at(now)
    confirmed = submit(reauthed_admin, manage, f"{manage}/two-factor/confirm", token=code)
    assert confirmed.status_code == 302
    after = stored(open_db, "bob")
    assert after.totp_secret == new and after.pending_totp_secret is None
    handed_over = NewStaff(bob.staff, bob.passphrase, new)
    assert log_in(browser, handed_over, at=later).headers["Location"] == "/first-login"


def test_a_non_ascii_confirmation_code_is_a_wrong_code_that_counts(
    reauthed_admin: FlaskClient, bob: NewStaff, open_db: sessionmaker[Session], settings: Settings
) -> None:
    """Issue 10: fullwidth digits made hmac.compare_digest raise TypeError (a 500)."""
    manage = f"/admin/staff/{bob.staff.uuid}"
    _, new = secrets_on(
        submit(reauthed_admin, manage, f"{manage}/two-factor").get_data(as_text=True)
    )
    assert new is not None
    for _ in range(settings.login.max_failures + 1):
        wrong = submit(
            reauthed_admin,
            manage,
            f"{manage}/two-factor/confirm",
            token="\uff11\uff12\uff13\uff14\uff15\uff16",
        )
        assert wrong.status_code == 400
    code = pyotp.TOTP(new).now()
    locked = submit(reauthed_admin, manage, f"{manage}/two-factor/confirm", token=code)
    assert locked.status_code == 429  # the wrong codes counted towards bob's lockout
    assert stored(open_db, "bob").pending_totp_secret == new


def test_an_admin_changes_their_own_secrets_on_their_account_page(
    reauthed_admin: FlaskClient, root: NewStaff, open_db: sessionmaker[Session]
) -> None:
    manage = f"/admin/staff/{root.staff.uuid}"
    assert "your account page" in page_of(reauthed_admin, manage)
    for action in ("passphrase", "two-factor"):
        response = submit(reauthed_admin, manage, f"{manage}/{action}")
        assert response.headers["Location"] == "/account"
    after = stored(open_db, "root")
    assert after.passphrase_hash == root.staff.passphrase_hash
    assert after.pending_totp_secret is None and after.totp_secret == root.totp_secret


def test_deleting_someone_keeps_their_replies_from_deleted(
    reauthed_admin: FlaskClient,
    as_bob: FlaskClient,
    bob: NewStaff,
    reported: Reported,
    open_db: sessionmaker[Session],
) -> None:
    source_page = f"/sources/{reported.uuid}"
    sent = submit(as_bob, source_page, f"{source_page}/reply", message="we are here to help")
    assert sent.status_code == 302
    assert "bob" in page_of(reauthed_admin, source_page)
    manage = f"/admin/staff/{bob.staff.uuid}"
    unconfirmed = submit(reauthed_admin, manage, f"{manage}/delete")
    assert unconfirmed.status_code == 400
    assert exists(open_db, "bob") is not None
    response = submit(reauthed_admin, manage, f"{manage}/delete", confirm="yes")
    assert response.headers["Location"] == "/admin/staff?notice=deleted"
    assert exists(open_db, "bob") is None
    with open_db() as db:
        reply = db.scalars(select(Reply)).one()
    assert reply.staff_id is None
    page = page_of(reauthed_admin, source_page)
    author = re.search(r"Reply from ([^<]+)<", page)
    assert author is not None and "deleted" in author.group(1)
    assert as_bob.get("/").headers["Location"] == "/login"


def test_nobody_deletes_their_own_account(
    reauthed_admin: FlaskClient, root: NewStaff, open_db: sessionmaker[Session]
) -> None:
    manage = f"/admin/staff/{root.staff.uuid}"
    assert "Delete account" not in page_of(reauthed_admin, manage)
    response = submit(reauthed_admin, manage, f"{manage}/delete", confirm="yes")
    assert response.status_code == 409
    assert "cannot delete your own account" in response.get_data(as_text=True)
    assert exists(open_db, "root") is not None


def test_staff_list_and_unknown_account(as_admin: FlaskClient, bob: NewStaff) -> None:
    page = page_of(as_admin, "/admin/staff")
    assert f'href="/admin/staff/{bob.staff.uuid}">bob</a>' in page
    assert "root</a> (you)" in page
    assert as_admin.get("/admin/staff/00000000-0000-0000-0000-000000000000").status_code == 404


def test_admin_sees_the_admin_links(as_admin: FlaskClient, open_db: sessionmaker[Session]) -> None:
    page = page_of(as_admin, "/")
    for link in ('href="/admin/staff">Staff', 'href="/admin/settings">Settings', "/account"):
        assert link in page
    with open_db() as db:
        assert instance_config(db).organization_name in page
