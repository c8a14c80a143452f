"""The HTTPS front (issue 17): how the app knows a request came that way, and "require Tor".

nginx's HTTPS server alone sets FRONT_HEADER; for every other request (the onion's) it sets the
header empty, which drops whatever a client sent under that name, and gunicorn listens only on
a socket nginx reaches. A forged header could only make its sender see the Tor Browser page or
the words for the ordinary web: it never unlocks anything.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from seethesigns.front import FRONT_HEADER
from seethesigns.instance_settings import tor_required
from seethesigns.onion import OnionError, OnionKeys
from seethesigns.web.setup import db, services

bp = Blueprint("clearnet", __name__)
# What the quick exit and the styles need, even on the Tor Browser page.
OPEN_ENDPOINTS = frozenset({"static", "quick_exit.leave"})


def via_https_front() -> bool:
    """Whether this request came over the ordinary web, through nginx's HTTPS server."""
    return request.headers.get(FRONT_HEADER) == "https"


def source_onion_address() -> str | None:
    """The source onion service's address (with ".onion"), or None if its key is unreadable."""
    found = current_app.extensions.get("source_onion_address")
    if found is None:
        try:
            key = OnionKeys(services().settings.tor.keys_dir).service_key("source")
        except OnionError:
            return None
        found = current_app.extensions["source_onion_address"] = f"{key.address}.onion"
    return str(found)


@bp.app_context_processor
def _clearnet() -> dict[str, object]:
    """Pages say what the ordinary web reveals when they are read through it."""
    return {"via_https_front": via_https_front()}


@bp.before_app_request
def _require_tor() -> ResponseReturnValue | None:
    """With "require Tor" on, the HTTPS front only explains how to come back through Tor."""
    if not via_https_front() or request.endpoint in OPEN_ENDPOINTS or not tor_required(db()):
        return None
    status = 200 if request.method in ("GET", "HEAD") else 403
    return render_template("tor_required.html", onion_address=source_onion_address()), status
