"""Staff accounts: server-made secrets, three-factor login, replay refusal and lockout."""

from __future__ import annotations

import base64
import time
from dataclasses import replace
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from seethesigns.codenames import load_wordlist
from seethesigns.models import LoginFailure, Staff
from seethesigns.models.base import utcnow
from seethesigns.settings import Settings
from seethesigns.staff_accounts import (
    LockedOut,
    LoginFailed,
    NewStaff,
    NotPermitted,
    StaffAccounts,
    StaffError,
    WrongCode,
    rename,
    totp_step,
)


@pytest.fixture
def accounts(settings: Settings) -> StaffAccounts:
    """Accounts with the instance's cheap argon2 cost and default limits (5 in 60 s)."""
    return StaffAccounts(settings.argon2, settings.login)


@pytest.fixture
def alice(db: Session, accounts: StaffAccounts) -> NewStaff:
    """A freshly created staff member and the secrets handed to her."""
    return accounts.create(db, "alice")


def code(secret: str, at: float) -> str:
    return pyotp.TOTP(secret).at(at)


def login(
    accounts: StaffAccounts,
    db: Session,
    who: NewStaff,
    *,
    at: float | None = None,
    passphrase: str | None = None,
    token: str | None = None,
) -> Staff:
    at = time.time() if at is None else at
    return accounts.authenticate(
        db,
        who.staff.username,
        who.passphrase if passphrase is None else passphrase,
        code(who.totp_secret, at) if token is None else token,
        at,
    )


def failures(db: Session, staff: Staff) -> int:
    return (
        db.scalar(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.staff_id == staff.id)
        )
        or 0
    )


def test_passphrase_is_seven_diceware_words(alice: NewStaff) -> None:
    words = alice.passphrase.split(" ")
    assert len(words) >= 7
    assert all(word in load_wordlist("eff_large_wordlist.txt") for word in words)


def test_only_an_argon2id_hash_is_stored(alice: NewStaff, db: Session) -> None:
    stored = db.scalar(select(Staff).where(Staff.username == "alice"))
    assert stored.passphrase_hash.startswith("$argon2id$")
    assert alice.passphrase not in stored.passphrase_hash
    assert "m=64,t=1,p=1" in stored.passphrase_hash  # the instance's cost, from settings


def test_totp_secret_is_base32(alice: NewStaff, db: Session) -> None:
    assert len(base64.b32decode(alice.totp_secret)) >= 20  # 160 bits, RFC 4226's advice
    assert db.get(Staff, alice.staff.id).totp_secret == alice.totp_secret


def test_two_accounts_get_different_secrets(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    bob = accounts.create(db, "bob", is_admin=True)
    assert bob.passphrase != alice.passphrase
    assert bob.totp_secret != alice.totp_secret
    assert bob.staff.is_admin and not alice.staff.is_admin


def test_duplicate_username_is_refused(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    with pytest.raises(StaffError, match="already exists"):
        accounts.create(db, " alice ")
    assert db.scalar(select(func.count()).select_from(Staff)) == 1


def test_the_placeholder_of_deleted_accounts_is_not_a_username(
    db: Session, accounts: StaffAccounts
) -> None:
    with pytest.raises(StaffError, match="deleted account"):
        accounts.create(db, " Deleted ")
    assert db.scalar(select(func.count()).select_from(Staff)) == 0


@pytest.mark.parametrize("username", ["", "   ", "x" * 65, "bad\nname", "tab\there"])
def test_invalid_usernames_are_refused(db: Session, accounts: StaffAccounts, username: str) -> None:
    with pytest.raises(StaffError, match="printable"):
        accounts.create(db, username)


def test_authenticate_with_all_three_factors(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    staff = login(accounts, db, alice)
    assert staff.id == alice.staff.id
    assert staff.last_login is not None


def test_a_code_from_the_previous_step_is_accepted(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    now = time.time()
    login(accounts, db, alice, at=now, token=code(alice.totp_secret, now - 30))


def test_a_code_two_steps_old_is_refused(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    now = time.time()
    with pytest.raises(LoginFailed):
        login(accounts, db, alice, at=now, token=code(alice.totp_secret, now - 60))


def test_a_code_is_accepted_once(alice: NewStaff, db: Session, accounts: StaffAccounts) -> None:
    now = time.time()
    login(accounts, db, alice, at=now)
    with pytest.raises(LoginFailed):
        login(accounts, db, alice, at=now)
    # An older code than the last one accepted is a replay too.
    with pytest.raises(LoginFailed):
        login(accounts, db, alice, at=now, token=code(alice.totp_secret, now - 30))
    login(accounts, db, alice, at=now + 30)


def test_wrong_passphrase(alice: NewStaff, db: Session, accounts: StaffAccounts) -> None:
    with pytest.raises(LoginFailed) as raised:
        login(accounts, db, alice, passphrase=alice.passphrase + "x")
    assert not isinstance(raised.value, LockedOut)
    assert failures(db, alice.staff) == 1


def test_wrong_passphrase_does_not_burn_the_code(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    now = time.time()
    with pytest.raises(LoginFailed):
        login(accounts, db, alice, at=now, passphrase="nope")
    login(accounts, db, alice, at=now)


def test_wrong_code(alice: NewStaff, db: Session, accounts: StaffAccounts) -> None:
    right = code(alice.totp_secret, time.time())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(LoginFailed):
        login(accounts, db, alice, token=wrong)
    with pytest.raises(LoginFailed):
        login(accounts, db, alice, token="")


def test_unknown_user(db: Session, accounts: StaffAccounts) -> None:
    with pytest.raises(LoginFailed) as raised:
        accounts.authenticate(db, "mallory", "any passphrase", "123456", time.time())
    assert not isinstance(raised.value, LockedOut)


def test_lockout_after_more_than_max_failures(
    alice: NewStaff, db: Session, accounts: StaffAccounts, settings: Settings
) -> None:
    limit = settings.login.max_failures
    for _ in range(limit):
        with pytest.raises(LoginFailed) as raised:
            login(accounts, db, alice, passphrase="wrong")
        assert not isinstance(raised.value, LockedOut)
    with pytest.raises(LoginFailed):
        login(accounts, db, alice, passphrase="wrong")
    # Locked now: even the right passphrase and a fresh code are refused.
    with pytest.raises(LockedOut):
        login(accounts, db, alice)
    assert db.get(Staff, alice.staff.id).locked_until > utcnow()


def test_max_failures_alone_do_not_lock(
    alice: NewStaff, db: Session, accounts: StaffAccounts, settings: Settings
) -> None:
    for _ in range(settings.login.max_failures):
        with pytest.raises(LoginFailed):
            login(accounts, db, alice, passphrase="wrong")
    login(accounts, db, alice)
    assert failures(db, alice.staff) == 0


def test_failures_outside_the_window_do_not_count(
    alice: NewStaff, db: Session, accounts: StaffAccounts, settings: Settings
) -> None:
    for _ in range(settings.login.max_failures):
        with pytest.raises(LoginFailed):
            login(accounts, db, alice, passphrase="wrong")
    window = timedelta(seconds=settings.login.failure_window_seconds + 1)
    db.execute(update(LoginFailure).values(occurred_at=utcnow() - window))
    db.commit()
    with pytest.raises(LoginFailed) as raised:
        login(accounts, db, alice, passphrase="wrong")
    assert not isinstance(raised.value, LockedOut)
    login(accounts, db, alice)


def test_lock_expires(alice: NewStaff, db: Session, settings: Settings) -> None:
    strict = StaffAccounts(settings.argon2, replace(settings.login, max_failures=1))
    for _ in range(2):
        with pytest.raises(LoginFailed):
            login(strict, db, alice, passphrase="wrong")
    with pytest.raises(LockedOut):
        login(strict, db, alice)
    db.execute(update(Staff).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert login(strict, db, alice).locked_until is None


def test_totp_step_tolerates_spaces() -> None:
    secret = pyotp.random_base32()
    now = 1_700_000_000.0
    token = code(secret, now)
    assert totp_step(secret, f"{token[:3]} {token[3:]}", now) == int(now // 30)
    assert totp_step(secret, token, now + 90) is None


NOT_ASCII_CODES = [
    "\uff11\uff12\uff13\uff14\uff15\uff16",
    "²²²²²²",
    "12345é",
    "\u0661\u0662\u0663\u0664\u0665\u0666",
    "123\u00a0456",
]


@pytest.mark.parametrize("token", [*NOT_ASCII_CODES, "12345", "1234567", "12345a", "+12345"])
def test_a_code_that_is_not_six_ascii_digits_matches_no_step(token: str) -> None:
    """Issue 10: a non-ASCII code made hmac.compare_digest raise TypeError (a 500)."""
    secret = pyotp.random_base32()
    assert totp_step(secret, token, 1_700_000_000.0) is None


@pytest.mark.parametrize("token", NOT_ASCII_CODES)
def test_a_non_ascii_code_counts_towards_the_lockout(
    alice: NewStaff, db: Session, accounts: StaffAccounts, settings: Settings, token: str
) -> None:
    for _ in range(settings.login.max_failures + 1):
        with pytest.raises(LoginFailed):
            login(accounts, db, alice, token=token)
    assert failures(db, alice.staff) == settings.login.max_failures + 1
    with pytest.raises(LockedOut):
        login(accounts, db, alice)


# Changing secrets: re-authentication, passphrase reset, verified two-factor enrolment.


@pytest.fixture
def bob(db: Session, accounts: StaffAccounts) -> NewStaff:
    """Another staff member, not an admin."""
    return accounts.create(db, "bob")


@pytest.fixture
def admin(db: Session, accounts: StaffAccounts) -> NewStaff:
    """An admin."""
    return accounts.create(db, "root", is_admin=True)


def reauthenticate(
    accounts: StaffAccounts,
    db: Session,
    who: NewStaff,
    *,
    at: float,
    passphrase: str | None = None,
    token: str | None = None,
) -> None:
    accounts.reauthenticate(
        db,
        who.staff,
        who.passphrase if passphrase is None else passphrase,
        code(who.totp_secret, at) if token is None else token,
        at,
    )


def test_reauthenticate_needs_the_passphrase_and_a_code_not_used_before(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    """SEC-01-010: the passphrase alone is not enough; the code is one-time, as at login."""
    now = time.time()
    login(accounts, db, alice, at=now)
    with pytest.raises(LoginFailed):  # the code the login used
        reauthenticate(accounts, db, alice, at=now)
    with pytest.raises(LoginFailed):
        reauthenticate(accounts, db, alice, at=now + 30, token="")
    reauthenticate(accounts, db, alice, at=now + 30)
    with pytest.raises(LoginFailed):  # and that one cannot be used again, to log in either
        login(accounts, db, alice, at=now + 30)
    with pytest.raises(LoginFailed):
        reauthenticate(accounts, db, alice, at=now + 30)


def test_reauthenticate_counts_failures_and_a_success_clears_them(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    now = time.time()
    with pytest.raises(LoginFailed):
        reauthenticate(accounts, db, alice, at=now, passphrase="a guess")
    with pytest.raises(LoginFailed):
        reauthenticate(accounts, db, alice, at=now, token="000000")
    assert failures(db, alice.staff) == 2
    reauthenticate(accounts, db, alice, at=now)  # a wrong passphrase did not burn the code
    assert failures(db, alice.staff) == 0


def test_reauthenticate_is_refused_while_locked(
    alice: NewStaff, db: Session, accounts: StaffAccounts, settings: Settings
) -> None:
    now = time.time()
    for _ in range(settings.login.max_failures + 1):
        with pytest.raises(LoginFailed):
            reauthenticate(accounts, db, alice, at=now, passphrase="a guess")
    with pytest.raises(LockedOut):
        reauthenticate(accounts, db, alice, at=now)
    with pytest.raises(LockedOut):  # the same lock as logins'
        login(accounts, db, alice, at=now)


def test_reset_passphrase_replaces_it_and_bumps_the_epoch(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    epoch = alice.staff.session_epoch
    new = accounts.reset_passphrase(db, alice.staff)
    assert new != alice.passphrase
    assert len(new.split(" ")) >= 7
    assert db.get(Staff, alice.staff.id).session_epoch == epoch + 1
    now = time.time()
    with pytest.raises(LoginFailed):
        login(accounts, db, alice, at=now)
    login(accounts, db, alice, at=now, passphrase=new)


def test_own_new_secret_is_pending_until_confirmed(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    now = time.time()
    new = accounts.start_two_factor(db, alice.staff, alice.staff)
    stored = db.get(Staff, alice.staff.id)
    assert stored.pending_totp_secret == new
    assert stored.totp_secret == alice.totp_secret
    epoch = stored.session_epoch
    with pytest.raises(LoginFailed):  # the new secret does not work yet
        login(accounts, db, alice, at=now - 30, token=code(new, now - 30))
    login(accounts, db, alice, at=now - 30)  # the old one still does
    accounts.confirm_two_factor(db, alice.staff, alice.staff, code(new, now), now)
    stored = db.get(Staff, alice.staff.id)
    assert stored.totp_secret == new
    assert stored.pending_totp_secret is None
    assert stored.session_epoch == epoch + 1
    with pytest.raises(LoginFailed):  # the old secret stopped working
        login(accounts, db, alice, at=now + 30)
    login(accounts, db, alice, at=now + 30, token=code(new, now + 30))


def test_the_confirming_code_cannot_log_in(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    now = time.time()
    new = accounts.start_two_factor(db, alice.staff, alice.staff)
    accounts.confirm_two_factor(db, alice.staff, alice.staff, code(new, now), now)
    with pytest.raises(LoginFailed):
        login(accounts, db, alice, at=now, token=code(new, now))


def test_a_wrong_code_confirms_nothing_and_counts_as_a_failure(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    now = time.time()
    new = accounts.start_two_factor(db, alice.staff, alice.staff)
    wrong = f"{(int(code(new, now)) + 1) % 1_000_000:06d}"
    with pytest.raises(WrongCode):
        accounts.confirm_two_factor(db, alice.staff, alice.staff, wrong, now)
    # A code of the current secret is not a code of the new one.
    with pytest.raises(WrongCode):
        accounts.confirm_two_factor(db, alice.staff, alice.staff, code(alice.totp_secret, now), now)
    assert db.get(Staff, alice.staff.id).totp_secret == alice.totp_secret
    assert failures(db, alice.staff) == 2


def test_nothing_to_confirm_without_a_pending_secret(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    now = time.time()
    with pytest.raises(WrongCode):
        accounts.confirm_two_factor(db, alice.staff, alice.staff, code(alice.totp_secret, now), now)


def test_confirming_is_refused_while_locked(
    alice: NewStaff, db: Session, accounts: StaffAccounts, settings: Settings
) -> None:
    now = time.time()
    new = accounts.start_two_factor(db, alice.staff, alice.staff)
    for _ in range(settings.login.max_failures + 1):
        with pytest.raises(WrongCode):
            accounts.confirm_two_factor(db, alice.staff, alice.staff, "000000x", now)
    with pytest.raises(LockedOut):
        accounts.confirm_two_factor(db, alice.staff, alice.staff, code(new, now), now)
    assert db.get(Staff, alice.staff.id).pending_totp_secret == new


def test_a_non_admin_cannot_start_or_confirm_for_someone_else(
    alice: NewStaff, bob: NewStaff, admin: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    """SecureDrop audit SEC-01-001: two-factor of another account was reachable."""
    now = time.time()
    with pytest.raises(NotPermitted):
        accounts.start_two_factor(db, bob.staff, alice.staff)
    assert db.get(Staff, alice.staff.id).pending_totp_secret is None
    pending = accounts.start_two_factor(db, alice.staff, alice.staff)
    with pytest.raises(NotPermitted):
        accounts.confirm_two_factor(db, bob.staff, alice.staff, code(pending, now), now)
    stored = db.get(Staff, alice.staff.id)
    assert stored.totp_secret == alice.totp_secret
    assert stored.pending_totp_secret == pending


def test_an_admin_reset_revokes_the_old_device_at_once(
    alice: NewStaff, admin: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    now = time.time()
    epoch = alice.staff.session_epoch
    handed_over = accounts.start_two_factor(db, admin.staff, alice.staff)
    stored = db.get(Staff, alice.staff.id)
    assert stored.session_epoch == epoch + 1  # her sessions end now
    assert stored.totp_secret not in (alice.totp_secret, handed_over)
    with pytest.raises(LoginFailed):
        login(accounts, db, alice, at=now - 30)
    with pytest.raises(LoginFailed):
        login(accounts, db, alice, at=now - 30, token=code(handed_over, now - 30))
    accounts.confirm_two_factor(db, admin.staff, alice.staff, code(handed_over, now), now)
    login(accounts, db, alice, at=now + 30, token=code(handed_over, now + 30))


def test_a_new_reset_replaces_the_pending_secret(
    alice: NewStaff, db: Session, accounts: StaffAccounts
) -> None:
    now = time.time()
    first = accounts.start_two_factor(db, alice.staff, alice.staff)
    second = accounts.start_two_factor(db, alice.staff, alice.staff)
    with pytest.raises(WrongCode):
        accounts.confirm_two_factor(db, alice.staff, alice.staff, code(first, now), now)
    accounts.confirm_two_factor(db, alice.staff, alice.staff, code(second, now), now)
    assert db.get(Staff, alice.staff.id).totp_secret == second


def test_rename(alice: NewStaff, db: Session) -> None:
    rename(db, alice.staff, "  Alice from safeguarding ")
    assert db.get(Staff, alice.staff.id).display_name == "Alice from safeguarding"
    rename(db, alice.staff, " ")
    assert db.get(Staff, alice.staff.id).display_name is None


@pytest.mark.parametrize("name", ["x" * 129, "new\nline"])
def test_rename_refuses_bad_names(alice: NewStaff, db: Session, name: str) -> None:
    rename(db, alice.staff, "Alice")
    with pytest.raises(StaffError, match="printable"):
        rename(db, alice.staff, name)
    db.rollback()
    assert db.get(Staff, alice.staff.id).display_name == "Alice"
