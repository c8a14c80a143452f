"""The first login: a pending account chooses a passphrase and a two-factor device of its own.

Every test starts from a pending account, made the way an admin makes one (issue 13).
"""

from __future__ import annotations

import time

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from tests.conftest import csrf_token
from tests.journalist_interface.api.conftest import API, auth, request_token
from tests.journalist_interface.conftest import (
    add_staff,
    complete_first_login,
    log_in,
    page_of,
    quiet_moment,
    secrets_on,
    stored,
    submit,
)
from tests.journalist_interface.test_audit import everything_written, log_of

# Reachable while pending: the steps themselves, logging in and out, and what the login page uses.
WHILE_PENDING = frozenset({"static", "branding.logo", "auth.login", "auth.logout"})


@pytest.fixture
def dana(open_db: sessionmaker[Session], settings: Settings) -> NewStaff:
    """A new staff member, pending, with the secrets an admin handed over."""
    return add_staff(open_db, settings, "dana", active=False)


@pytest.fixture
def as_dana(journalist_client: FlaskClient, dana: NewStaff) -> FlaskClient:
    """Dana's browser, logged in with what the admin handed over."""
    response = log_in(journalist_client, dana)
    assert response.headers["Location"] == "/first-login"
    return journalist_client


def test_the_whole_first_login(
    reauthed_admin: FlaskClient, journalist_app: Flask, open_db: sessionmaker[Session]
) -> None:
    made = submit(reauthed_admin, "/admin/staff/new", "/admin/staff/new", username="erin")
    handed_over = NewStaff(stored(open_db, "erin"), *map(str, secrets_on(made.get_data(True))))
    assert stored(open_db, "erin").status == "pending"
    browser = journalist_app.test_client()
    now = time.time()
    assert log_in(browser, handed_over, at=now).headers["Location"] == "/first-login"
    assert browser.get("/first-login").headers["Location"] == "/first-login/passphrase"

    page = page_of(browser, "/first-login/passphrase")
    offered, _ = secrets_on(page)
    assert offered is not None and len(offered.split(" ")) == 7
    assert offered != handed_over.passphrase
    wrong = browser.post(
        "/first-login/passphrase",
        data={"csrf_token": csrf_token(page), "passphrase": handed_over.passphrase},
    )
    assert wrong.status_code == 400
    assert "not the passphrase shown" in wrong.get_data(as_text=True)
    assert stored(open_db, "erin").status == "pending"
    # The same offer until the person asks for another.
    assert secrets_on(page_of(browser, "/first-login/passphrase"))[0] == offered
    another = browser.post("/first-login/passphrase/another", data={"csrf_token": csrf_token(page)})
    assert another.headers["Location"] == "/first-login/passphrase"
    page = page_of(browser, "/first-login/passphrase")
    chosen, _ = secrets_on(page)
    assert chosen is not None and chosen != offered
    typed = "  " + chosen.upper().replace(" ", "   ") + " "  # spacing and case forgiven
    response = browser.post(
        "/first-login/passphrase", data={"csrf_token": csrf_token(page), "passphrase": typed}
    )
    assert response.headers["Location"] == "/first-login/two-factor"
    assert stored(open_db, "erin").status == "two_factor"
    assert browser.get("/").headers["Location"] == "/first-login"  # still not active

    page = page_of(browser, "/first-login/two-factor")
    _, secret = secrets_on(page)
    assert secret is not None and secret != handed_over.totp_secret
    assert "<svg" in page
    assert secrets_on(page_of(browser, "/first-login/two-factor"))[1] == secret  # until confirmed
    wrong = browser.post(
        "/first-login/two-factor",
        data={"csrf_token": csrf_token(page), "token": pyotp.TOTP(handed_over.totp_secret).now()},
    )
    assert wrong.status_code == 400
    code = pyotp.TOTP(secret).at(now)
    done = browser.post(
        "/first-login/two-factor", data={"csrf_token": csrf_token(page), "token": code}
    )
    assert done.headers["Location"] == "/"
    erin = stored(open_db, "erin")
    assert erin.status == "active" and erin.totp_secret == secret
    assert erin.pending_totp_secret is None
    assert "Logged in as erin" in page_of(browser, "/")  # the session carried on
    assert browser.get("/first-login").headers["Location"] == "/"

    # What the admin saw works no more; what only erin saw does.
    later = now + 30
    fresh = journalist_app.test_client()
    assert log_in(fresh, handed_over, at=later).status_code == 401
    assert log_in(fresh, handed_over, at=later, passphrase=chosen).status_code == 401
    own = NewStaff(erin, chosen, secret)
    assert log_in(fresh, own, at=later).headers["Location"] == "/"
    admin_view = page_of(reauthed_admin, f"/admin/staff/{erin.uuid}")
    assert chosen not in admin_view and secret[:8] not in admin_view.replace(" ", "")
    # On record, in order, as erin's own steps; never the secrets.
    erins = [e for e in log_of(open_db) if e.staff_username == "erin"]
    assert [e.action for e in erins if e.action.startswith("first_login.")] == [
        "first_login.passphrase",
        "first_login.activated",
    ]
    written = everything_written(open_db)
    assert chosen not in written and secret not in written


def test_every_other_page_sends_a_pending_account_to_its_first_login(
    journalist_app: Flask,
    journalist_client: FlaskClient,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    """An admin too: admin pages answer a pending admin as any other page does."""
    boss = add_staff(open_db, settings, "boss", is_admin=True, active=False)
    log_in(journalist_client, boss)
    token = csrf_token(page_of(journalist_client, "/first-login/passphrase"))
    refused = 0
    for rule in journalist_app.url_map.iter_rules():
        name = rule.endpoint
        if name in WHILE_PENDING or name.startswith(("first_login.", "api.")):
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "00000000-0000-0000-0000-000000000000")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = journalist_client.open(
                path, method=method, data={"csrf_token": token, "confirm": "yes"}
            )
            assert response.status_code == 302, (method, path, response.status_code)
            assert response.headers["Location"] == "/first-login", (method, path)
            refused += 1
    assert refused >= 30
    assert stored(open_db, "boss").status == "pending"


def test_two_factor_waits_for_the_passphrase(as_dana: FlaskClient) -> None:
    assert as_dana.get("/first-login/two-factor").headers["Location"] == "/first-login/passphrase"


def test_an_active_account_has_no_first_login(logged_in: FlaskClient) -> None:
    for path in ("/first-login", "/first-login/passphrase", "/first-login/two-factor"):
        assert logged_in.get(path).headers["Location"] == "/"


def test_the_steps_need_a_login_and_a_csrf_token(
    journalist_app: Flask, as_dana: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    anonymous = journalist_app.test_client()
    assert anonymous.get("/first-login/passphrase").headers["Location"] == "/login"
    offered, _ = secrets_on(page_of(as_dana, "/first-login/passphrase"))
    response = as_dana.post("/first-login/passphrase", data={"passphrase": offered})
    assert response.status_code == 400
    assert stored(open_db, "dana").status == "pending"


def test_a_chosen_passphrase_survives_logging_out_and_ends_other_sessions(
    journalist_app: Flask, dana: NewStaff, open_db: sessionmaker[Session]
) -> None:
    now = quiet_moment()  # three unused time steps: one login each
    browser, other = journalist_app.test_client(), journalist_app.test_client()
    assert log_in(browser, dana, at=now - 30).headers["Location"] == "/first-login"
    assert log_in(other, dana, at=now).headers["Location"] == "/first-login"
    page = page_of(browser, "/first-login/passphrase")
    chosen, _ = secrets_on(page)
    assert chosen is not None
    browser.post(
        "/first-login/passphrase", data={"csrf_token": csrf_token(page), "passphrase": chosen}
    )
    assert other.get("/first-login").headers["Location"] == "/login"
    page = page_of(browser, "/first-login/two-factor")
    browser.post("/logout", data={"csrf_token": csrf_token(page)})
    # With the passphrase chosen and the admin's device, dana comes back to the second step.
    again = log_in(browser, dana, at=now + 30, passphrase=chosen)
    assert again.headers["Location"] == "/first-login"
    assert browser.get("/first-login").headers["Location"] == "/first-login/two-factor"
    assert stored(open_db, "dana").status == "two_factor"


def test_the_api_refuses_a_pending_account_until_its_first_login(
    journalist_client: FlaskClient, dana: NewStaff
) -> None:
    now = quiet_moment()
    assert log_in(journalist_client, dana, at=now - 30).headers["Location"] == "/first-login"
    refused = request_token(journalist_client, dana, at=now)
    assert refused.status_code == 403
    body = refused.get_json()
    assert body["error"] == "Forbidden" and "first login" in body["message"]
    assert "token" not in body
    own = complete_first_login(journalist_client, dana)
    response = request_token(journalist_client, own, at=now + 30)
    assert response.status_code == 200
    user = journalist_client.get(f"{API}/user", headers=auth(response.get_json()["token"]))
    assert user.get_json()["username"] == "dana"


def test_an_admin_reset_makes_the_account_pending_again(
    reauthed_admin: FlaskClient,
    journalist_app: Flask,
    bob: NewStaff,
    open_db: sessionmaker[Session],
) -> None:
    manage = f"/admin/staff/{bob.staff.uuid}"
    assert stored(open_db, "bob").status == "active"
    passphrase, _ = secrets_on(
        submit(reauthed_admin, manage, f"{manage}/passphrase").get_data(True)
    )
    assert stored(open_db, "bob").status == "pending"
    assert passphrase is not None
    browser = journalist_app.test_client()
    reset = NewStaff(bob.staff, passphrase, bob.totp_secret)
    assert log_in(browser, reset).headers["Location"] == "/first-login"
    own = complete_first_login(browser, reset)
    assert stored(open_db, "bob").status == "active"

    _, handed = secrets_on(submit(reauthed_admin, manage, f"{manage}/two-factor").get_data(True))
    assert handed is not None
    assert stored(open_db, "bob").status == "pending"
    code = pyotp.TOTP(handed).now()
    submit(reauthed_admin, manage, f"{manage}/two-factor/confirm", token=code)
    later = NewStaff(bob.staff, own.passphrase, handed)
    assert log_in(browser, later, at=time.time() + 30).headers["Location"] == "/first-login"
    assert stored(open_db, "bob").status == "pending"
