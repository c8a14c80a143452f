"""Admin changes to accounts: always an admin left, nobody deletes themselves, replies stay."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seethesigns.db import make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.models import LoginFailure, Reply, Staff
from seethesigns.replies import send_reply
from seethesigns.settings import Settings
from seethesigns.sources import LoggedInSource
from seethesigns.staff_accounts import LoginFailed, NewStaff, NotPermitted, StaffAccounts
from seethesigns.staff_admin import (
    LastAdmin,
    delete_staff,
    find_staff,
    list_staff,
    set_admin,
)
from seethesigns.storage import Store


@pytest.fixture
def accounts(settings: Settings) -> StaffAccounts:
    """Accounts with the instance's cheap argon2 cost."""
    return StaffAccounts(settings.argon2, settings.login)


@pytest.fixture
def root(db: Session, accounts: StaffAccounts) -> NewStaff:
    """The only admin."""
    return accounts.create(db, "root", is_admin=True)


@pytest.fixture
def bob(db: Session, accounts: StaffAccounts) -> NewStaff:
    """A staff member who is not an admin."""
    return accounts.create(db, "bob")


def admins(db: Session) -> list[str]:
    return list(db.scalars(select(Staff.username).where(Staff.is_admin).order_by(Staff.username)))


def test_list_and_find(root: NewStaff, bob: NewStaff, db: Session) -> None:
    assert [s.username for s in list_staff(db)] == ["bob", "root"]
    assert find_staff(db, bob.staff.uuid).id == bob.staff.id
    assert find_staff(db, "no-such-uuid") is None


def test_make_and_unmake_admin(root: NewStaff, bob: NewStaff, db: Session) -> None:
    set_admin(db, root.staff, bob.staff, True)
    assert admins(db) == ["bob", "root"]
    set_admin(db, bob.staff, root.staff, False)
    assert admins(db) == ["bob"]


def test_the_last_admin_cannot_be_unmade(root: NewStaff, db: Session) -> None:
    with pytest.raises(LastAdmin):
        set_admin(db, root.staff, root.staff, False)
    assert admins(db) == ["root"]


def test_only_an_admin_changes_admin(root: NewStaff, bob: NewStaff, db: Session) -> None:
    with pytest.raises(NotPermitted):
        set_admin(db, bob.staff, bob.staff, True)
    with pytest.raises(NotPermitted):
        set_admin(db, bob.staff, root.staff, False)
    assert admins(db) == ["root"]


def stale_copy(db: Session, staff: Staff) -> tuple[Session, Staff]:
    """The account as another request loaded it a moment ago, in its own session."""
    other = make_session_factory(db.get_bind())()
    return other, other.get(Staff, staff.id)


def test_two_admins_demoting_each_other_leave_one(
    root: NewStaff, bob: NewStaff, db: Session
) -> None:
    set_admin(db, root.staff, bob.staff, True)
    other, stale_root = stale_copy(db, root.staff)
    set_admin(db, bob.staff, root.staff, False)  # bob takes root's admin away first
    with other, pytest.raises(LastAdmin):
        set_admin(other, stale_root, other.get(Staff, bob.staff.id), False)
    db.expire_all()
    assert admins(db) == ["bob"]


def test_nobody_deletes_themselves(root: NewStaff, bob: NewStaff, db: Session) -> None:
    set_admin(db, root.staff, bob.staff, True)
    with pytest.raises(NotPermitted, match="your own account"):
        delete_staff(db, root.staff, root.staff)
    assert find_staff(db, root.staff.uuid) is not None


def test_the_last_admin_cannot_be_deleted(root: NewStaff, bob: NewStaff, db: Session) -> None:
    set_admin(db, root.staff, bob.staff, True)
    other, stale_root = stale_copy(db, root.staff)
    set_admin(db, bob.staff, root.staff, False)
    with other, pytest.raises(LastAdmin):
        delete_staff(other, stale_root, other.get(Staff, bob.staff.id))
    db.expire_all()
    assert admins(db) == ["bob"]


def test_only_an_admin_deletes(root: NewStaff, bob: NewStaff, db: Session) -> None:
    with pytest.raises(NotPermitted):
        delete_staff(db, bob.staff, root.staff)
    assert find_staff(db, root.staff.uuid) is not None


def test_deleting_keeps_replies_without_an_author(
    root: NewStaff,
    bob: NewStaff,
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    accounts: StaffAccounts,
) -> None:
    reply = send_reply(db, store, gpg, source.source, bob.staff, "we read your message")
    with pytest.raises(LoginFailed):  # a failed login leaves a row, to go with the account
        accounts.authenticate(db, "bob", "wrong", "000000", time.time())
    bob_id = bob.staff.id
    delete_staff(db, root.staff, bob.staff)
    db.expire_all()
    assert db.get(Staff, bob_id) is None
    kept = db.get(Reply, reply.id)
    assert kept is not None and kept.staff_id is None
    assert store.path(source.source.filesystem_id, kept.filename).is_file()
    failures = select(func.count()).select_from(LoginFailure).where(LoginFailure.staff_id == bob_id)
    assert db.scalar(failures) == 0
