"""The Journalist API v1 under /api/v1/, compatible with SecureDrop's, for its client software.

Authentication is by `Authorization: Token <token>` only. These routes are exempt from CSRF
protection because a browser cannot be made to send that header cross-site, and they never
read or set the web session cookie.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request
from flask.sessions import SessionInterface, SessionMixin

from journalist_interface.api import (
    guard,
    list_cache,
    replies,
    seen,
    source_fragments,
    sources,
    submissions,
    tokens,
    users,
)
from seethesigns.web.sessions import ServerSession

PREFIX = "/api/v1"

bp = Blueprint("api", __name__, url_prefix=PREFIX)
bp.before_request(guard.check_request)
for child in (tokens, users, sources, submissions, replies, seen):
    bp.register_blueprint(child.bp)


@bp.get("/")
def root() -> tuple[Response, int]:
    """The available resources; no token needed."""
    return jsonify(
        {
            "all_users_url": f"{PREFIX}/users",
            "auth_token_url": f"{PREFIX}/token",
            "current_user_url": f"{PREFIX}/user",
            "replies_url": f"{PREFIX}/replies",
            "seen_url": f"{PREFIX}/seen",
            "sources_url": f"{PREFIX}/sources",
            "submissions_url": f"{PREFIX}/submissions",
        }
    ), 200


class WebSessionsOutsideApi(SessionInterface):
    """The web session interface, except under the API prefix.

    There a request gets an empty session that is never stored and never sent as a cookie,
    so an API call can neither ride on nor renew a browser's staff session.
    """

    def __init__(self, web: SessionInterface, prefix: str) -> None:
        self._web = web
        self._prefix = prefix

    def open_session(self, app: Flask, request: Any) -> SessionMixin | None:
        """A throwaway session for the API, the real one elsewhere."""
        if request.path.startswith(self._prefix):
            return ServerSession()
        return self._web.open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Any) -> None:
        """Save the web session; drop the API's."""
        if request.path.startswith(self._prefix):
            return
        self._web.save_session(app, session, response)


def register(app: Flask) -> None:
    """Mount the API on the staff app, exempt from CSRF, away from the session cookie."""
    list_cache.register(app)
    source_fragments.register(app)
    app.register_blueprint(bp)
    csrf = app.extensions["csrf"]
    for name, blueprint in app.blueprints.items():
        if name == bp.name or name.startswith(bp.name + "."):
            csrf.exempt(blueprint)
    app.session_interface = WebSessionsOutsideApi(app.session_interface, "/api/")
