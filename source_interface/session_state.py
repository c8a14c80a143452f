"""What the source's server-side session holds, and reading it back."""

from __future__ import annotations

from datetime import datetime

from flask import session
from sqlalchemy import select

from seethesigns.models import Source
from seethesigns.sources import LoggedInSource
from seethesigns.web.sessions import ServerSession
from seethesigns.web.setup import db

LANGUAGE = "language"


def chosen_language() -> str | None:
    """The language picked with the switcher in this browser session, if any."""
    found = session.get(LANGUAGE)
    return found if isinstance(found, str) else None


def choose_language(code: str) -> None:
    """Remember the switcher's choice, server-side, until the browser session ends."""
    if session.get(LANGUAGE) != code:
        session[LANGUAGE] = code


def _keep_language() -> None:
    language = chosen_language()
    session.clear()
    if language is not None:
        session[LANGUAGE] = language


def log_in(found: LoggedInSource) -> None:
    """Start a fresh session for a source: new id, their filesystem id and key secret."""
    assert isinstance(session, ServerSession)
    _keep_language()
    session.regenerate()
    session["fsid"] = found.source.filesystem_id
    session["key_secret"] = found.key_secret


def current_source() -> LoggedInSource | None:
    """The logged-in source, or None (also when the source was deleted meanwhile)."""
    fsid = session.get("fsid")
    secret = session.get("key_secret")
    if not isinstance(fsid, str) or not isinstance(secret, str):
        return None
    source = db().scalar(select(Source).where(Source.filesystem_id == fsid))
    return LoggedInSource(source, secret) if source else None


def log_out() -> None:
    """Forget everything about this browser session except the language it reads in."""
    assert isinstance(session, ServerSession)
    _keep_language()
    session.regenerate()


# After a report: who it was about (a choice from the form), and when it was sent, so that the
# confirmation speaks to the right person and the waiting page looks only for new replies.
REPORT_ABOUT = "last_report_about"
REPORT_SENT_AT = "last_report_at"
WAITING_SINCE = "waiting_since"


def remember_report(about: str | None, now: datetime) -> None:
    """Note a report just sent; a new report also allows a new wait for a reply."""
    session.pop(REPORT_ABOUT, None)
    if about is not None:
        session[REPORT_ABOUT] = about
    session[REPORT_SENT_AT] = now.isoformat()
    session.pop(WAITING_SINCE, None)


def report_about() -> str | None:
    """Who the last report of this session was about ("me", "other", "both"), if it said."""
    found = session.get(REPORT_ABOUT)
    return found if isinstance(found, str) else None


def _moment(key: str) -> datetime | None:
    found = session.get(key)
    try:
        return datetime.fromisoformat(found) if isinstance(found, str) else None
    except ValueError:
        return None


def report_sent_at() -> datetime | None:
    """When the last report of this session was sent (UTC), if one was."""
    return _moment(REPORT_SENT_AT)


def waiting_since(now: datetime) -> datetime:
    """When this session started waiting for a reply: the first visit to the waiting page."""
    found = _moment(WAITING_SINCE)
    if found is None:
        found = now
        session[WAITING_SINCE] = now.isoformat()
    return found
