"""Server-side sessions: the cookie holds only a random token; the state lives in the database.

The row is found by SHA-256 of the token and sealed with AES-GCM under a key derived from the
token, so neither the database nor the cookie alone reveals a session's contents. This lets
the source interface keep the key secret it derived at login without storing it anywhere in
the clear, and without ever putting the codename in a cookie (SecureDrop audit SD-01-012).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, Request, Response, g
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.datastructures import CallbackDict

from seethesigns.db import UNAVAILABLE
from seethesigns.models import WebSession
from seethesigns.models.base import utcnow

TOKEN_BYTES = 32
# An unchanged session's row is rewritten (to push its expiry back) at most this often.
RENEW_AFTER = timedelta(minutes=1)


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """A dict-like session that remembers whether it changed and whether to rotate its id."""

    def __init__(self, initial: dict[str, Any] | None = None, token: str | None = None) -> None:
        def on_update(_self: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.token = token
        self.new = token is None
        self.modified = False
        self.rotate = False
        # When the stored row expires; an unchanged session is rewritten only to renew it.
        self.expires_at: datetime | None = None

    def regenerate(self) -> None:
        """Issue a new session id on the next response (at login), dropping the old one."""
        self.rotate = True
        self.modified = True


def _row_id(token: str) -> str:
    return hashlib.sha256(b"seethesigns-session-id:" + token.encode("ascii")).hexdigest()


def _seal_key(token: str) -> bytes:
    return hmac.new(token.encode("ascii"), b"seethesigns-session-seal", hashlib.sha256).digest()


class ServerSessionInterface(SessionInterface):
    """Flask session interface backed by the web_sessions table."""

    def __init__(self, db: sessionmaker[Session], interface: str, idle: timedelta) -> None:
        self._db = db
        self._interface = interface
        self._idle = idle

    def _seal(self, token: str, data: dict[str, Any]) -> bytes:
        nonce = os.urandom(12)
        plain = json.dumps(data, separators=(",", ":")).encode("utf-8")
        return nonce + AESGCM(_seal_key(token)).encrypt(nonce, plain, self._interface.encode())

    def _unseal(self, token: str, sealed: bytes) -> dict[str, Any] | None:
        try:
            plain = AESGCM(_seal_key(token)).decrypt(
                sealed[:12], sealed[12:], self._interface.encode()
            )
        except InvalidTag:
            return None
        data = json.loads(plain)
        return data if isinstance(data, dict) else None

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        """Load the session named by the cookie, if it exists and has not expired."""
        token = request.cookies.get(self.get_cookie_name(app), "")
        # isascii too: str.isalnum() accepts "é", which _row_id cannot encode (a 500).
        unpunctuated = token.replace("-", "").replace("_", "")
        if len(token) != 43 or not (token.isascii() and unpunctuated.isalnum()):
            return ServerSession()
        try:
            with self._db() as db:
                row = db.get(WebSession, _row_id(token))
                if row is None or row.interface != self._interface or row.expires_at <= utcnow():
                    return ServerSession()
                data = self._unseal(token, row.sealed)
        except UNAVAILABLE:
            # The request goes on signed out; whatever it needs of the database fails in turn
            # and answers "try again" (503). The session row is untouched, so is the cookie.
            g.database_unavailable_for_session = True
            return ServerSession()
        if data is None:
            return ServerSession()
        found = ServerSession(data, token)
        found.expires_at = row.expires_at
        return found

    def _fresh(self, session: ServerSession, now: datetime) -> bool:
        """True if an unchanged session was renewed within the last RENEW_AFTER."""
        unchanged = session.token is not None and not session.modified and not session.rotate
        renewed = session.expires_at is not None and session.expires_at - now > (
            self._idle - min(RENEW_AFTER, self._idle / 2)
        )
        return unchanged and renewed

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Write the session back, renew its idle timeout, and set or clear the cookie."""
        assert isinstance(session, ServerSession)
        name = self.get_cookie_name(app)
        now = utcnow()
        if session and self._fresh(session, now):
            return  # no write per stylesheet or logo: the idle timeout is kept to the minute
        if g.get("database_unavailable_for_session") and not session.modified:
            return  # the session could not be read: keep the cookie for when it can be
        try:
            self._write(session, now)
        except UNAVAILABLE:
            # An emptied session (signing out, the quick exit) still loses its cookie; its row
            # expires on its own. Anything else is not saved, and the page says why (503).
            if session:
                raise
        if not session:
            if not session.new:
                response.delete_cookie(name, path=self.get_cookie_path(app))
            return
        # No Expires or Max-Age: the cookie dies with the browser session.
        response.set_cookie(
            name,
            session.token or "",
            httponly=True,
            samesite="Strict",
            secure=self.get_cookie_secure(app),
            path=self.get_cookie_path(app),
        )
        response.vary.add("Cookie")

    def _write(self, session: ServerSession, now: datetime) -> None:
        """Delete, rotate or store the session's row (an emptied session keeps no token)."""
        with self._db() as db, db.begin():
            if session.token and (session.rotate or not session):
                db.execute(delete(WebSession).where(WebSession.id == _row_id(session.token)))
                session.token = None
            if not session:
                return
            if session.token is None:
                session.token = secrets.token_urlsafe(TOKEN_BYTES)
                db.execute(delete(WebSession).where(WebSession.expires_at <= now))
            row = WebSession(
                id=_row_id(session.token),
                interface=self._interface,
                sealed=self._seal(session.token, dict(session)),
                expires_at=now + self._idle,
            )
            db.merge(row)
