"""Who is logged in on the staff interface, and the decorators that insist someone is.

A session holds the account's id and uuid, its session epoch and the time of login. It ends
after [journalist] session_idle_minutes without a request (the database row expires), after
[login] session_max_minutes since login however busy it was, so a session left open on a
shared office computer does not last for days, and as soon as the account's passphrase or
two-factor is reset, which bumps Staff.session_epoch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, current_app, g, redirect, session, url_for
from werkzeug.wrappers import Response

from seethesigns.models import Staff
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.web.sessions import ServerSession
from seethesigns.web.setup import db, services

STAFF_EXTENSION = "seethesigns.staff"
P = ParamSpec("P")
R = TypeVar("R")


def staff_accounts() -> StaffAccounts:
    """The staff account service of the current app."""
    found: StaffAccounts = current_app.extensions[STAFF_EXTENSION]
    return found


def log_in(staff: Staff) -> None:
    """Start a fresh session (new id, against session fixation) for a staff member."""
    assert isinstance(session, ServerSession)
    session.clear()
    session.regenerate()
    session["staff_id"] = staff.id
    # SQLite may hand a deleted account's id to the next new one; the random uuid never
    # repeats, so a session left over from a deleted account cannot become someone else's.
    session["staff_uuid"] = staff.uuid
    session["epoch"] = staff.session_epoch
    session["login_at"] = time.time()


def keep_session(staff: Staff) -> None:
    """After this person changed their own secrets: keep this session, under a new id.

    The change bumped their epoch, which ended every session of theirs, this one too; the
    session they made the change in carries on with the new epoch and the same login time.
    """
    assert isinstance(session, ServerSession)
    session.regenerate()
    session["epoch"] = staff.session_epoch


def _expired(login_at: object) -> bool:
    if not isinstance(login_at, float | int) or isinstance(login_at, bool):
        return True
    limit = services().settings.login.session_max_minutes * 60
    return not 0 <= time.time() - login_at <= limit


def current_staff() -> Staff | None:
    """The logged-in staff member, or None (also when their account was deleted meanwhile)."""
    staff_id = session.get("staff_id")
    if not isinstance(staff_id, int) or isinstance(staff_id, bool):
        return None
    staff = db().get(Staff, staff_id)
    if (
        staff is None
        or staff.uuid != session.get("staff_uuid")
        or session.get("epoch") != staff.session_epoch
        or _expired(session.get("login_at"))
    ):
        session.clear()
        return None
    return staff


def log_out() -> None:
    """Forget everything about this browser session."""
    session.clear()


def login_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Send anyone not logged in to the login page; put the staff member in g.staff."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        staff = current_staff()
        if staff is None:
            return redirect(url_for("auth.login"))
        g.staff = staff
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Like login_required, and answer 403 to anyone who is not an admin (checked each time)."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        staff = current_staff()
        if staff is None:
            return redirect(url_for("auth.login"))
        if not staff.is_admin:
            abort(403)
        g.staff = staff
        return view(*args, **kwargs)

    return wrapped
