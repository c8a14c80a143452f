"""Staff accounts: server-generated secrets, login with lockout, and changing the secrets."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seethesigns.codenames import diceware
from seethesigns.models import LoginFailure, Staff, TeamMember
from seethesigns.models.base import utcnow
from seethesigns.models.staff import STAFF_PENDING
from seethesigns.settings import Argon2Settings, LoginSettings
from seethesigns.teams.membership import front_door_id

PASSPHRASE_WORDS = 7
TOTP_DIGITS = 6
USERNAME_MAX = 64
DISPLAY_NAME_MAX = 128
# Replies of a deleted account are shown as from "deleted" (as SecureDrop's API does), so no
# real account may take that name.
RESERVED_USERNAME = "deleted"


class StaffError(Exception):
    """A staff account could not be created or changed."""


class LoginFailed(Exception):
    """Wrong username, passphrase or code; the message never says which."""


class LockedOut(LoginFailed):
    """Too many recent failures for this account."""


class NotPermitted(StaffError):
    """The acting staff member may not do this to that account."""


class WrongCode(StaffError):
    """The code does not match the new two-factor secret (or there is none to confirm)."""


@dataclass(frozen=True)
class NewStaff:
    """A freshly created account and the secrets to hand over once."""

    staff: Staff
    passphrase: str
    totp_secret: str


def new_totp_secret() -> str:
    """A fresh TOTP secret: 160 bits of base32, as RFC 4226 advises."""
    return pyotp.random_base32(32)


def _rowcount(result: object) -> int:
    return cast(CursorResult[Any], result).rowcount


def code_bytes(token: str) -> bytes | None:
    """What was typed as a one-time code, as bytes, if it is exactly six ASCII digits.

    Spaces are allowed ("123 456"). Anything else is no code at all: str.isdigit() accepts
    "²" and Arabic-Indic digits, and hmac.compare_digest raises TypeError on non-ASCII text
    (issue 10: a 500 that told known usernames apart and never counted towards the lockout).
    """
    digits = token.replace(" ", "")
    if len(digits) != TOTP_DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return digits.encode("ascii")


def totp_step(secret: str, token: str, now: float) -> int | None:
    """The time step a token is valid for (one step of clock drift allowed), or None."""
    typed = code_bytes(token)
    if typed is None:
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS)
    current = totp.timecode(datetime.fromtimestamp(now, UTC))
    found = None
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step).encode("ascii"), typed):
            found = step
    return found


class StaffAccounts:
    """Creates accounts, checks logins and changes secrets, with the instance's cost and limits."""

    def __init__(self, cost: Argon2Settings, limits: LoginSettings) -> None:
        self.hasher = PasswordHasher(
            time_cost=cost.time_cost, memory_cost=cost.memory_cost_kib, parallelism=cost.parallelism
        )
        self._limits = limits
        # Verified against when the username is unknown, so that costs the same time.
        self._dummy_hash = self.hasher.hash("no such staff member")

    def create(
        self,
        db: Session,
        username: str,
        is_admin: bool = False,
        team_ids: set[int] | None = None,
    ) -> NewStaff:
        """Create an account with a diceware passphrase and a TOTP secret made by the server.

        It joins these teams, or the front door when none are named (issue 14).
        """
        username = username.strip()
        if not username or len(username) > USERNAME_MAX or not username.isprintable():
            raise StaffError(f"a username is 1 to {USERNAME_MAX} printable characters")
        if username.lower() == RESERVED_USERNAME:
            raise StaffError(
                f"{RESERVED_USERNAME!r} names the author of a deleted account's replies"
            )
        passphrase = diceware(PASSPHRASE_WORDS)
        totp_secret = new_totp_secret()
        staff = Staff(
            username=username,
            passphrase_hash=self.hasher.hash(passphrase),
            totp_secret=totp_secret,
            is_admin=is_admin,
        )
        teams = team_ids if team_ids is not None else {front_door_id(db)}
        db.add(staff)
        try:
            db.flush()
            db.add_all(TeamMember(team_id=team_id, staff_id=staff.id) for team_id in teams)
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

    def _claim_code(self, db: Session, staff: Staff, token: str, now: float) -> bool:
        """Move last_totp_step forward to the token's step; False if the token is no good.

        A conditional update: of two requests racing with the same code, only one claims it.
        """
        step = totp_step(staff.totp_secret, token, now)
        if step is None:
            return False
        result = db.execute(
            update(Staff)
            .where(Staff.id == staff.id, Staff.last_totp_step < step)
            .values(last_totp_step=step)
        )
        return _rowcount(result) == 1

    def _check_factors(
        self, db: Session, staff: Staff, passphrase_ok: bool, token: str, now: float
    ) -> None:
        """Raise LockedOut or LoginFailed (counted) unless passphrase and a new code are right.

        The code is checked only with the right passphrase, so a wrong one does not use it up.
        """
        if staff.locked_until is not None and staff.locked_until > utcnow():
            raise LockedOut()
        if not (passphrase_ok and self._claim_code(db, staff, token, now)):
            db.rollback()
            self._record_failure(db, staff)
            raise LoginFailed()
        staff.locked_until = None
        db.execute(delete(LoginFailure).where(LoginFailure.staff_id == staff.id))

    def authenticate(
        self, db: Session, username: str, passphrase: str, token: str, now: float
    ) -> Staff:
        """Return the staff member if all three factors are right, else raise LoginFailed.

        A TOTP code is accepted once, by a login or a re-authentication, never by both.
        """
        staff = db.scalar(select(Staff).where(Staff.username == username.strip()))
        passphrase_ok = self._passphrase_ok(staff, passphrase)
        if staff is None:
            raise LoginFailed()
        self._check_factors(db, staff, passphrase_ok, token, now)
        staff.last_login = utcnow()
        db.commit()
        db.refresh(staff)
        return staff

    def reauthenticate(
        self, db: Session, staff: Staff, passphrase: str, token: str, now: float
    ) -> None:
        """Check a logged-in person's passphrase and a new code before a powerful action.

        SecureDrop audit SEC-01-010: an open session alone made a new admin. Failures count
        towards the same lockout as logins, or a borrowed session could guess here without
        limit; the code is one-time, as at login.
        """
        self._check_factors(db, staff, self._passphrase_ok(staff, passphrase), token, now)
        db.commit()
        db.refresh(staff)

    def reset_passphrase(self, db: Session, staff: Staff, *, by_admin: bool = False) -> str:
        """Give the account a new server-made passphrase and end all its sessions.

        Reset by an admin, who now knows it, the account is pending until its owner chooses
        another at their next login (issue 13).
        """
        passphrase = diceware(PASSPHRASE_WORDS)
        staff.passphrase_hash = self.hasher.hash(passphrase)
        staff.session_epoch += 1
        if by_admin:
            staff.status = STAFF_PENDING
        db.commit()
        return passphrase

    def start_two_factor(self, db: Session, actor: Staff, target: Staff) -> str:
        """Make a new TOTP secret for target and keep it pending until a code confirms it.

        Only the account's owner or an admin may start this (SecureDrop audit SEC-01-001:
        anyone could set another journalist's secret). When the owner starts it, their
        current secret keeps working until they confirm, so a failed scan locks nobody out.
        When an admin starts it for someone else, it is because the old device is lost or
        no longer trusted: the old secret is replaced at once by one nobody is shown, and the
        account's sessions end. The new secret, shown only to the admin for the hand-over,
        works once a code from the device holding it is confirmed; as the admin knows it, the
        account is pending until its owner replaces it at their next login (issue 13).
        """
        if actor.id != target.id and not actor.is_admin:
            raise NotPermitted("only the account's owner or an admin can reset two-factor")
        secret = new_totp_secret()
        target.pending_totp_secret = secret
        if actor.id != target.id:
            target.totp_secret = new_totp_secret()
            target.session_epoch += 1
            target.status = STAFF_PENDING
        db.commit()
        return secret

    def confirm_two_factor(
        self, db: Session, actor: Staff, target: Staff, token: str, now: float
    ) -> None:
        """Make target's pending TOTP secret the active one, if token is a valid code for it.

        Who may confirm: the owner, for their own pending secret (the staff interface takes
        the account from the session, never from the request), or an admin, who may reset
        the account anyway, typing a code read from the new device at the hand-over. A
        non-admin can never confirm someone else's secret. The code is a proof that the
        secret reached a device; wrong codes count towards the lockout, so it cannot be
        guessed. The confirming code cannot be replayed to log in, and every session of
        the account ends because its second factor changed.
        """
        if actor.id != target.id and not actor.is_admin:
            raise NotPermitted("only the account's owner or an admin can confirm two-factor")
        if target.locked_until is not None and target.locked_until > utcnow():
            raise LockedOut()
        pending = target.pending_totp_secret
        step = totp_step(pending, token, now) if pending else None
        if pending is None or step is None:
            if pending is not None:
                self._record_failure(db, target)
            raise WrongCode("that code does not match the new secret")
        # Conditional on the pending secret, so a confirmation racing a new reset cannot
        # activate the secret that reset replaced.
        result = db.execute(
            update(Staff)
            .where(Staff.id == target.id, Staff.pending_totp_secret == pending)
            .values(
                totp_secret=pending,
                pending_totp_secret=None,
                session_epoch=Staff.session_epoch + 1,
                last_totp_step=case(
                    (Staff.last_totp_step < step, step), else_=Staff.last_totp_step
                ),
            )
        )
        if _rowcount(result) != 1:
            db.rollback()
            raise WrongCode("the new secret was replaced meanwhile; start again")
        db.commit()
        db.refresh(target)


def rename(db: Session, staff: Staff, display_name: str) -> None:
    """Set the name shown to colleagues; empty removes it."""
    name = display_name.strip()
    if len(name) > DISPLAY_NAME_MAX or not name.isprintable():
        raise StaffError(f"a display name is at most {DISPLAY_NAME_MAX} printable characters")
    staff.display_name = name or None
    db.commit()
