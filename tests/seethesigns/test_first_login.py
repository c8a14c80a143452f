"""The first login's domain rules, and the upgrade that leaves existing accounts active."""

from __future__ import annotations

import time

import pyotp
import pytest
from alembic import command
from flask.testing import FlaskClient
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from seethesigns.db import alembic_config, make_engine, upgrade_database
from seethesigns.first_login import (
    FirstLoginError,
    NotTypedBack,
    choose_passphrase,
    confirm_two_factor,
    two_factor_secret,
)
from seethesigns.settings import Settings
from seethesigns.staff_accounts import LoginFailed, NewStaff, StaffAccounts, WrongCode
from tests.conftest import csrf_token
from tests.databases import empty_database, run_sql


@pytest.fixture
def accounts(settings: Settings) -> StaffAccounts:
    """The staff account service, with the tests' cheap argon2."""
    return StaffAccounts(settings.argon2, settings.login)


@pytest.fixture
def dana(db: Session, accounts: StaffAccounts) -> NewStaff:
    """A new account, as an admin makes one."""
    return accounts.create(db, "dana")


def test_a_new_account_is_pending(dana: NewStaff) -> None:
    assert dana.staff.status == "pending" and not dana.staff.is_active


def test_the_passphrase_must_be_typed_back(
    db: Session, accounts: StaffAccounts, dana: NewStaff
) -> None:
    with pytest.raises(NotTypedBack):
        choose_passphrase(db, accounts, dana.staff, "one two three", "one two thee")
    assert dana.staff.status == "pending"
    with pytest.raises(FirstLoginError):
        two_factor_secret(db, accounts, dana.staff)


def test_both_steps_make_the_account_active_with_secrets_the_admin_never_saw(
    db: Session, accounts: StaffAccounts, dana: NewStaff
) -> None:
    epoch = dana.staff.session_epoch
    choose_passphrase(db, accounts, dana.staff, "new words here", "New  words here")
    assert dana.staff.status == "two_factor" and dana.staff.session_epoch == epoch + 1
    now = time.time()
    with pytest.raises(LoginFailed):
        accounts.authenticate(
            db, "dana", dana.passphrase, pyotp.TOTP(dana.totp_secret).at(now), now
        )
    secret = two_factor_secret(db, accounts, dana.staff)
    assert secret != dana.totp_secret
    assert two_factor_secret(db, accounts, dana.staff) == secret  # the same until confirmed
    with pytest.raises(WrongCode):
        confirm_two_factor(db, accounts, dana.staff, pyotp.TOTP(dana.totp_secret).at(now), now)
    confirm_two_factor(db, accounts, dana.staff, pyotp.TOTP(secret).at(now), now)
    assert dana.staff.is_active and dana.staff.totp_secret == secret
    with pytest.raises(FirstLoginError):
        choose_passphrase(db, accounts, dana.staff, "again", "again")


def test_a_reset_meanwhile_wins_over_the_first_login(
    db: Session, accounts: StaffAccounts, dana: NewStaff
) -> None:
    choose_passphrase(db, accounts, dana.staff, "new words here", "new words here")
    secret = two_factor_secret(db, accounts, dana.staff)
    accounts.reset_passphrase(db, dana.staff, by_admin=True)  # an admin, in another request
    now = time.time()
    with pytest.raises(FirstLoginError):
        confirm_two_factor(db, accounts, dana.staff, pyotp.TOTP(secret).at(now), now)
    db.refresh(dana.staff)
    assert dana.staff.status == "pending"


def test_an_owner_changing_their_own_passphrase_stays_active(
    db: Session, accounts: StaffAccounts, dana: NewStaff
) -> None:
    dana.staff.status = "active"
    db.commit()
    accounts.reset_passphrase(db, dana.staff)
    accounts.start_two_factor(db, dana.staff, dana.staff)
    assert dana.staff.is_active


def test_upgrading_from_0007_leaves_existing_accounts_active(settings: Settings) -> None:
    """A real database at revision 0007 with an account in use, upgraded: it still logs in."""
    from journalist_interface import create_app

    empty_database(settings.database_url)
    command.upgrade(alembic_config(settings.database_url), "0007")
    accounts = StaffAccounts(settings.argon2, settings.login)
    passphrase, secret = "an existing passphrase of seven words here", pyotp.random_base32(32)
    url = settings.database_url
    run_sql(
        url,
        "INSERT INTO staff (uuid, username, passphrase_hash, totp_secret, session_epoch,"
        " last_totp_step, is_admin, created_at) VALUES ('u-1', 'olga', ?, ?, 0, 0, TRUE,"
        " '2026-11-01 09:00:00')",
        (accounts.hasher.hash(passphrase), secret),
    )
    run_sql(
        url,
        "INSERT INTO sources (uuid, filesystem_id, designation, pgp_fingerprint,"
        " pgp_public_key, pgp_secret_key, interaction_count, is_starred, created_at,"
        " last_updated) VALUES ('s-1', 'f', 'd', 'x', 'k', 'k', 1, FALSE, '2026-11-02',"
        " '2026-11-02')",
    )
    run_sql(
        url,
        "INSERT INTO submissions (uuid, source_id, filename, size, checksum, created_at)"
        " VALUES ('m-1', 1, '1-d-msg.gpg', 10, 'sha256:x', '2026-11-02 10:00:00')",
    )
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT status FROM staff")).all() == [("active",)]
        assert connection.execute(text("SELECT urgent FROM submissions")).all() == [(False,)]
        # An account made after the upgrade without the model's default still waits.
        connection.execute(
            text(
                "INSERT INTO staff (uuid, username, passphrase_hash, totp_secret, session_epoch,"
                " last_totp_step, is_admin, created_at)"
                " VALUES ('u-2', 'new', 'h', 's', 0, 0, FALSE, '2026-12-01')"
            )
        )
        status = connection.execute(text("SELECT status FROM staff WHERE username = 'new'"))
        assert status.scalar_one() == "pending"
        connection.rollback()
    engine.dispose()
    app = create_app(settings)
    client: FlaskClient = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(page),
            "username": "olga",
            "passphrase": passphrase,
            "token": pyotp.TOTP(secret).now(),
        },
    )
    assert response.headers["Location"] == "/"
    assert client.get("/admin/staff").status_code == 200


def test_the_downgrade_takes_the_columns_away(settings: Settings) -> None:
    upgrade_database(settings.database_url)
    command.downgrade(alembic_config(settings.database_url), "0007")
    engine = make_engine(settings.database_url)
    columns = {column["name"] for column in inspect(engine).get_columns("staff")}
    assert "status" not in columns and "username" in columns
    engine.dispose()
