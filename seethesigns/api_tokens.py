"""Journalist API tokens: random bearer tokens of which the server keeps only a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from seethesigns.models import ApiToken, Staff
from seethesigns.models.base import utcnow

# SecureDrop's documented lifetime: "Tokens currently expire after 8 hours."
TOKEN_LIFETIME = timedelta(hours=8)
TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 128


@dataclass(frozen=True)
class IssuedToken:
    """A new token, shown to the client once, and when it stops working."""

    token: str
    expires_at: datetime


def _token_id(token: str) -> str:
    # Rows are found by this hash, so a copy of the database holds no usable token. Looking a
    # hash up in an index leaks nothing about the token, so no constant-time compare is needed.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(db: Session, staff: Staff) -> IssuedToken:
    """Make a 256-bit token for staff, tied to their current session epoch."""
    now = utcnow()
    db.execute(delete(ApiToken).where(ApiToken.expires_at <= now))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + TOKEN_LIFETIME
    db.add(
        ApiToken(
            id=_token_id(token),
            staff_id=staff.id,
            session_epoch=staff.session_epoch,
            created_at=now,
            expires_at=expires_at,
        )
    )
    db.commit()
    return IssuedToken(token, expires_at)


def staff_for_token(db: Session, token: str) -> Staff | None:
    """The staff member a token belongs to, or None if it is unknown, expired or superseded.

    A token from before the staff member's passphrase or two-factor was reset (an older
    session epoch) stops working, as their web sessions do.
    """
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    found = db.execute(
        select(ApiToken, Staff)
        .join(Staff, Staff.id == ApiToken.staff_id)
        .where(ApiToken.id == _token_id(token))
    ).first()
    if found is None:
        return None
    row, staff = found
    if row.expires_at <= utcnow() or row.session_epoch != staff.session_epoch:
        # Two requests with the same expired token may both get here: deleting is idempotent.
        db.execute(delete(ApiToken).where(ApiToken.id == row.id))
        db.commit()
        return None
    return staff


def revoke_token(db: Session, token: str) -> None:
    """Make a token stop working at once (logout)."""
    db.execute(delete(ApiToken).where(ApiToken.id == _token_id(token)))
    db.commit()
