"""API tokens: only a hash is stored; expiry, epoch and revocation end a token."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from seethesigns.api_tokens import (
    TOKEN_LIFETIME,
    issue_token,
    revoke_token,
    staff_for_token,
)
from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import ApiToken, Staff
from seethesigns.models.base import utcnow
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts
from tests.conftest import at_once


@pytest.fixture
def staff(db: Session, settings: Settings) -> Staff:
    """A staff member."""
    return StaffAccounts(settings.argon2, settings.login).create(db, "alice").staff


def test_a_token_is_random_long_and_stored_only_as_its_hash(db: Session, staff: Staff) -> None:
    first, second = issue_token(db, staff), issue_token(db, staff)
    assert first.token != second.token
    assert len(first.token) == 43
    ids = set(db.scalars(select(ApiToken.id)))
    assert ids == {hashlib.sha256(t.token.encode()).hexdigest() for t in (first, second)}
    assert first.expires_at - utcnow() <= TOKEN_LIFETIME
    assert timedelta(hours=8) == TOKEN_LIFETIME


def test_a_token_names_its_staff_member_until_revoked(db: Session, staff: Staff) -> None:
    issued = issue_token(db, staff)
    found = staff_for_token(db, issued.token)
    assert found is not None and found.id == staff.id
    revoke_token(db, issued.token)
    assert staff_for_token(db, issued.token) is None


@pytest.mark.parametrize("token", ["", "x" * 43, "é" * 10, "y" * 10_000])
def test_unknown_or_malformed_tokens_name_no_one(db: Session, staff: Staff, token: str) -> None:
    issue_token(db, staff)
    assert staff_for_token(db, token) is None


def test_an_expired_token_names_no_one_and_is_deleted(db: Session, staff: Staff) -> None:
    issued = issue_token(db, staff)
    db.execute(update(ApiToken).values(expires_at=utcnow()))
    db.commit()
    assert staff_for_token(db, issued.token) is None
    assert db.scalars(select(ApiToken)).all() == []


def test_an_expired_token_used_by_several_requests_at_once(
    db: Session, staff: Staff, settings: Settings
) -> None:
    """Each finds it expired, and each deletes it: the later deletions must be quiet."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    for _ in range(20):
        issued = issue_token(db, staff)
        db.execute(update(ApiToken).values(expires_at=utcnow()))
        db.commit()

        def look_up(token: str = issued.token) -> Staff | None:
            with sessions() as own:
                return staff_for_token(own, token)

        assert at_once(4, look_up) == [None] * 4
    engine.dispose()
    assert db.scalars(select(ApiToken)).all() == []


def test_a_token_of_an_older_epoch_names_no_one(db: Session, staff: Staff) -> None:
    issued = issue_token(db, staff)
    db.execute(update(Staff).values(session_epoch=1))
    db.commit()
    assert staff_for_token(db, issued.token) is None
    db.refresh(staff)
    newer = issue_token(db, staff)
    assert staff_for_token(db, newer.token) is not None
