"""What admins do to staff accounts: list them, grant or take away admin, delete them.

Two rules hold however requests interleave: there is always an admin left, and nobody deletes
their own account. Each change is one conditional UPDATE or DELETE that re-counts the other
admins inside the statement, after locking the admin rows where the database can
(PostgreSQL; SQLite runs one writer at a time), so two admins demoting each other at the same
moment cannot both succeed.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, delete, exists, not_, or_, select, update
from sqlalchemy.orm import Session, aliased

from seethesigns.models import Staff
from seethesigns.staff_accounts import NotPermitted, StaffError


class LastAdmin(StaffError):
    """The change would leave the instance without an admin."""


def list_staff(db: Session) -> list[Staff]:
    """Every staff account, by username."""
    return list(db.scalars(select(Staff).order_by(Staff.username)))


def find_staff(db: Session, staff_uuid: str) -> Staff | None:
    """The account with this public uuid, or None."""
    return db.scalar(select(Staff).where(Staff.uuid == staff_uuid))


def _another_admin(target: Staff) -> Any:
    other = aliased(Staff)
    return exists().where(other.is_admin.is_(True), other.id != target.id)


def _lock_admins(db: Session) -> None:
    db.execute(select(Staff.id).where(Staff.is_admin.is_(True)).with_for_update())


def _require_admin(actor: Staff) -> None:
    if not actor.is_admin:
        raise NotPermitted("only an admin can do this")


def set_admin(db: Session, actor: Staff, target: Staff, is_admin: bool) -> None:
    """Make target an admin, or take that away unless they are the last one."""
    _require_admin(actor)
    _lock_admins(db)
    statement = update(Staff).where(Staff.id == target.id).values(is_admin=is_admin)
    if not is_admin:
        statement = statement.where(_another_admin(target))
    changed = cast(CursorResult[Any], db.execute(statement)).rowcount
    if changed != 1:
        db.rollback()
        raise LastAdmin("there must always be at least one admin")
    db.commit()
    db.refresh(target)


def delete_staff(db: Session, actor: Staff, target: Staff) -> None:
    """Delete target's account; their replies stay, shown as from a deleted account.

    Reply.staff_id is set to NULL by the database (ON DELETE SET NULL); their seen-marks,
    login failures and API tokens go with them (ON DELETE CASCADE).
    """
    _require_admin(actor)
    if actor.id == target.id:
        raise NotPermitted("you cannot delete your own account")
    _lock_admins(db)
    statement = delete(Staff).where(
        Staff.id == target.id, or_(not_(Staff.is_admin), _another_admin(target))
    )
    deleted = cast(CursorResult[Any], db.execute(statement)).rowcount
    if deleted != 1:
        db.rollback()
        raise LastAdmin("there must always be at least one admin")
    db.commit()
    if target in db:
        db.expunge(target)
