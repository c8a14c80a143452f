"""Who is logged in on the staff interface, and the decorators that insist someone is.

A session holds the account's id and uuid, its session epoch and the time of login. It ends
after [journalist] session_idle_minutes without a request (the database row expires), after
[login] session_max_minutes since login however busy it was, so a session left open on a
shared office computer does not last for days, and as soon as the account's passphrase or
two-factor is reset, which bumps Staff.session_epoch.

Powerful actions (managing staff, changing one's own passphrase or two-factor) also need a
recent re-authentication in this session: see reauthentication_required.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from seethesigns.models import Staff
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.web.sessions import ServerSession
from seethesigns.web.setup import db, services

STAFF_EXTENSION = "seethesigns.staff"
REAUTH_AT = "reauth_at"
REAUTH_NEXT = "reauth_next"
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


def _older_than(started: object, minutes: int) -> bool:
    if not isinstance(started, float | int) or isinstance(started, bool):
        return True
    return not 0 <= time.time() - started <= minutes * 60


def _expired(login_at: object) -> bool:
    return _older_than(login_at, services().settings.login.session_max_minutes)


def mark_reauthenticated() -> None:
    """Open the re-authentication window in this session, under a new session id."""
    assert isinstance(session, ServerSession)
    session.regenerate()
    session[REAUTH_AT] = time.time()


def recently_reauthenticated() -> bool:
    """True within [login] reauth_minutes of this session's last re-authentication."""
    return not _older_than(session.get(REAUTH_AT), services().settings.login.reauth_minutes)


def continue_after_reauthentication() -> str:
    """Where the re-authentication page sends the person on: a URL built by the server.

    Only reauthentication_required stores one, made with url_for; nothing from the request
    is ever a redirect target, so there is no open redirect.
    """
    target = session.pop(REAUTH_NEXT, None)
    if isinstance(target, str) and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("sources.index")


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


def first_login_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """For the first-login steps: a logged-in account that is not active yet, in g.staff."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        staff = current_staff()
        if staff is None:
            return redirect(url_for("auth.login"))
        if staff.is_active:
            return redirect(url_for("sources.index"))
        g.staff = staff
        return view(*args, **kwargs)

    return wrapped


def login_required(view: Callable[P, R]) -> Callable[P, R | Response]:
    """Send anyone not logged in to the login page; put the staff member in g.staff.

    An account still pending (made or reset by an admin, who knows its secrets) is sent to
    its first-login steps instead: it may do nothing else until they are done (issue 13).
    """

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
        staff = current_staff()
        if staff is None:
            return redirect(url_for("auth.login"))
        if not staff.is_active:
            return redirect(url_for("first_login.index"))
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
        if not staff.is_active:
            return redirect(url_for("first_login.index"))
        if not staff.is_admin:
            abort(403)
        g.staff = staff
        return view(*args, **kwargs)

    return wrapped


def reauthentication_required(
    form_page: str,
) -> Callable[[Callable[P, R]], Callable[P, R | Response]]:
    """For powerful actions: outside the re-authentication window, ask for it first.

    SecureDrop audit SEC-01-010: an open session and a CSRF token were enough to create an
    admin. Goes inside login_required or admin_required, which set g.staff. The person comes
    back to form_page (with this request's URL arguments): the page that holds the form,
    since a POST cannot be replayed by a redirect.
    """

    def decorate(view: Callable[P, R]) -> Callable[P, R | Response]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | Response:
            if recently_reauthenticated():
                return view(*args, **kwargs)
            session[REAUTH_NEXT] = url_for(form_page, **(request.view_args or {}))
            return redirect(url_for("reauth.reauthenticate"))

        return wrapped

    return decorate
