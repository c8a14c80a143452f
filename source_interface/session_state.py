"""What the source's server-side session holds, and reading it back."""

from __future__ import annotations

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
