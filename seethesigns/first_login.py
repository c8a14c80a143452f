"""A staff member's first login: a passphrase and a two-factor secret that only they have seen.

An admin makes (or resets) an account with secrets they hand over, so the admin knows them.
Until the owner has replaced both, the account is pending and may do nothing else (issue 13):
first a new passphrase, then a new two-factor secret confirmed with a code from it.

The passphrase follows the rule every staff passphrase follows: seven diceware words made by
the server (staff_accounts.PASSPHRASE_WORDS, as SecureDrop's), never one a person makes up.
The person may ask for another until they have one they like, and types it back, so nobody
leaves the first login with a passphrase they did not write down.
"""

from __future__ import annotations

import hmac
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from seethesigns.codenames import diceware
from seethesigns.models import Staff
from seethesigns.models.staff import STAFF_ACTIVE, STAFF_PENDING, STAFF_TWO_FACTOR
from seethesigns.staff_accounts import PASSPHRASE_WORDS, StaffAccounts, StaffError


class FirstLoginError(StaffError):
    """This step of the first login does not apply to the account as it is now."""


class NotTypedBack(StaffError):
    """The passphrase typed back is not the one offered."""


def offer_passphrase() -> str:
    """A new passphrase to offer, made by the server as every staff passphrase is."""
    return diceware(PASSPHRASE_WORDS)


def _words(text: str) -> bytes:
    return " ".join(text.lower().split()).encode("utf-8")


def _changed(result: object) -> bool:
    return cast(CursorResult[Any], result).rowcount == 1


def choose_passphrase(
    db: Session, accounts: StaffAccounts, staff: Staff, offered: str, typed: str
) -> None:
    """Make the offered passphrase the account's, once typed back; the admin's stops working.

    Conditional on the account still being pending, so a reset by an admin meanwhile wins.
    Every session of the account ends (the caller keeps the one this was done in).
    """
    # Constant-time, as any comparison with a secret: the typed text is the passphrase.
    if not hmac.compare_digest(_words(offered), _words(typed)):
        raise NotTypedBack("that is not the passphrase shown: type it again")
    result = db.execute(
        update(Staff)
        .where(Staff.id == staff.id, Staff.status == STAFF_PENDING)
        .values(
            passphrase_hash=accounts.hasher.hash(offered),
            status=STAFF_TWO_FACTOR,
            # Whatever new secret was waiting, an admin may have seen it: the next step makes
            # one only the owner sees.
            pending_totp_secret=None,
            session_epoch=Staff.session_epoch + 1,
        )
    )
    if not _changed(result):
        db.rollback()
        raise FirstLoginError("this account has no passphrase to choose now")
    db.commit()
    db.refresh(staff)


def two_factor_secret(db: Session, accounts: StaffAccounts, staff: Staff) -> str:
    """The new secret waiting for a code from the owner's device, made now if there is none.

    The secret the admin handed over keeps working until a code confirms the new one.
    """
    if staff.status != STAFF_TWO_FACTOR:
        raise FirstLoginError("choose a passphrase first")
    return staff.pending_totp_secret or accounts.start_two_factor(db, staff, staff)


def confirm_two_factor(
    db: Session, accounts: StaffAccounts, staff: Staff, token: str, now: float
) -> None:
    """Make the new secret the account's with a code from it; the account is then active.

    Wrong codes count towards the lockout (StaffAccounts.confirm_two_factor raises WrongCode
    or LockedOut). Activation is conditional too: had an admin reset the account between the
    two statements, it stays pending.
    """
    if staff.status != STAFF_TWO_FACTOR:
        raise FirstLoginError("choose a passphrase first")
    accounts.confirm_two_factor(db, staff, staff, token, now)
    result = db.execute(
        update(Staff)
        .where(
            Staff.id == staff.id,
            Staff.status == STAFF_TWO_FACTOR,
            Staff.pending_totp_secret.is_(None),
        )
        .values(status=STAFF_ACTIVE)
    )
    if not _changed(result):
        db.rollback()
        raise FirstLoginError("an admin reset this account meanwhile: log in again")
    db.commit()
    db.refresh(staff)
