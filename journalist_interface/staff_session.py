"""Who is logged in on the staff interface, and the decorator that insists someone is."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, g, redirect, session, url_for
from werkzeug.wrappers import Response

from seethesigns.models import Staff
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.web.sessions import ServerSession
from seethesigns.web.setup import db

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


def current_staff() -> Staff | None:
    """The logged-in staff member, or None (also when their account was deleted meanwhile)."""
    staff_id = session.get("staff_id")
    if not isinstance(staff_id, int) or isinstance(staff_id, bool):
        return None
    staff = db().get(Staff, staff_id)
    if staff is None or staff.uuid != session.get("staff_uuid"):
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
