"""The quick exit on every page, and the neutral title every page wears (issue 12)."""

from __future__ import annotations

from flask import Blueprint, redirect, session
from werkzeug.wrappers import Response

from seethesigns.db import UNAVAILABLE
from seethesigns.instance_settings import Disguise, disguise
from seethesigns.web.setup import database_reachable, db

bp = Blueprint("quick_exit", __name__)


@bp.app_context_processor
def _disguise() -> dict[str, object]:
    """Every page's title and exit come from the instance's disguise."""
    return {"disguise": disguise(db()) if database_reachable() else Disguise()}


@bp.get("/exit")
def leave() -> Response:
    """End the session on the server and send the browser to the neutral page.

    A GET, so that it is one tap on a plain link with JavaScript off. Anyone who can make the
    browser load it can only log the source out, and the cookie is SameSite=Strict, so a
    link from another site does not even carry it (docs/threat-model.md).
    """
    session.clear()  # an empty session's row is deleted and its cookie cleared on the way out
    try:
        leave_to = disguise(db()).exit_url
    except UNAVAILABLE:  # the exit works with the database down: to the default page
        leave_to = Disguise().exit_url
    response = redirect(leave_to, code=303)
    # Also drops any copy the browser kept of this site's pages, the back/forward cache too,
    # so Back cannot show a reply again without asking the server, which says "log in".
    response.headers["Clear-Site-Data"] = '"cache", "cookies"'
    return response
