"""Staff accounts: creation with server-generated secrets, and login with lockout."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seethesigns.codenames import diceware
from seethesigns.models import LoginFailure, Staff
from seethesigns.models.base import utcnow
from seethesigns.settings import Argon2Settings, LoginSettings

PASSPHRASE_WORDS = 7
USERNAME_MAX = 64


class StaffError(Exception):
    """A staff account could not be created or changed."""


class LoginFailed(Exception):
    """Wrong username, passphrase or code; the message never says which."""


class LockedOut(LoginFailed):
    """Too many recent failures for this account."""


@dataclass(frozen=True)
class NewStaff:
    """A freshly created account and the secrets to hand over once."""

    staff: Staff
    passphrase: str
    totp_secret: str


def totp_step(secret: str, token: str, now: float) -> int | None:
    """The time step a token is valid for (one step of clock drift allowed), or None."""
    totp = pyotp.TOTP(secret)
    token = token.replace(" ", "")
    current = totp.timecode(datetime.fromtimestamp(now, UTC))
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), token):
            found = step
    return found


class StaffAccounts:
    """Creates staff accounts and checks logins, with the instance's argon2 cost and limits."""

    def __init__(self, cost: Argon2Settings, limits: LoginSettings) -> None:
        self.hasher = PasswordHasher(
            time_cost=cost.time_cost, memory_cost=cost.memory_cost_kib, parallelism=cost.parallelism
        )
        self._limits = limits
        # Verified against when the username is unknown, so that costs the same time.
        self._dummy_hash = self.hasher.hash("no such staff member")

    def create(self, db: Session, username: str, is_admin: bool = False) -> NewStaff:
        """Create an account with a diceware passphrase and a TOTP secret made by the server."""
        username = username.strip()
        if not username or len(username) > USERNAME_MAX or not username.isprintable():
            raise StaffError(f"a username is 1 to {USERNAME_MAX} printable characters")
        passphrase = diceware(PASSPHRASE_WORDS)
        totp_secret = pyotp.random_base32(32)
        staff = Staff(
            username=username,
            passphrase_hash=self.hasher.hash(passphrase),
            totp_secret=totp_secret,
            is_admin=is_admin,
        )
        db.add(staff)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            raise StaffError(f"a staff member called {username!r} already exists") from None
        return NewStaff(staff, passphrase, totp_secret)

    def _record_failure(self, db: Session, staff: Staff) -> None:
        now = utcnow()
        window_start = now - timedelta(seconds=self._limits.failure_window_seconds)
        db.add(LoginFailure(staff_id=staff.id, occurred_at=now))
        db.execute(delete(LoginFailure).where(LoginFailure.occurred_at < window_start))
        recent = db.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.staff_id == staff.id, LoginFailure.occurred_at >= window_start)
        )
        if recent and recent > self._limits.max_failures:
            staff.locked_until = now + timedelta(seconds=self._limits.lockout_seconds)
        db.commit()

    def _passphrase_ok(self, staff: Staff | None, passphrase: str) -> bool:
        try:
            self.hasher.verify(staff.passphrase_hash if staff else self._dummy_hash, passphrase)
        except (VerificationError, InvalidHashError):
            return False
        return staff is not None

    def authenticate(
        self, db: Session, username: str, passphrase: str, token: str, now: float
    ) -> Staff:
        """Return the staff member if all three factors are right, else raise LoginFailed.

        A TOTP code is accepted once: the conditional update below lets only one login move
        last_totp_step forward, even when two race with the same code.
        """
        staff = db.scalar(select(Staff).where(Staff.username == username.strip()))
        passphrase_ok = self._passphrase_ok(staff, passphrase)
        if staff is None:
            raise LoginFailed()
        if staff.locked_until is not None and staff.locked_until > utcnow():
            raise LockedOut()
        step = totp_step(staff.totp_secret, token, now)
        claimed = False
        if passphrase_ok and step is not None:
            result = db.execute(
                update(Staff)
                .where(Staff.id == staff.id, Staff.last_totp_step < step)
                .values(last_totp_step=step)
            )
            claimed = cast(CursorResult[Any], result).rowcount == 1
        if not claimed:
            db.rollback()
            self._record_failure(db, staff)
            raise LoginFailed()
        staff.last_login = utcnow()
        staff.locked_until = None
        db.execute(delete(LoginFailure).where(LoginFailure.staff_id == staff.id))
        db.commit()
        db.refresh(staff)
        return staff
