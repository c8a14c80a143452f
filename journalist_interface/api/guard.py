"""What every API request goes through: the token check and the JSON body check."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, g, request

from seethesigns.api_tokens import staff_for_token
from seethesigns.models import Staff
from seethesigns.web.setup import db

# Endpoints that answer without a token, as in SecureDrop.
OPEN_ENDPOINTS = frozenset({"api.root", "api.tokens.get_token"})
# POSTs that may come with no body at all; every other POST must carry JSON.
BODILESS_POSTS = frozenset(
    {"api.sources.add_star", "api.sources.star", "api.sources.flag", "api.tokens.logout"}
)
# The largest body an API request may have: an encrypted reply (< 1 MB armored) and some JSON.
MAX_BODY_BYTES = 2 * 1024 * 1024


def bearer_token() -> str | None:
    """The token from an `Authorization: Token <token>` header, or None."""
    parts = request.headers.get("Authorization", "").split(" ")
    if len(parts) != 2 or parts[0] != "Token" or not parts[1]:
        return None
    return parts[1]


def check_request() -> None:
    """Refuse a request without a valid token (403) or with a malformed body (400).

    Only the Authorization header authenticates: the web session cookie is never read here,
    so a page on another site cannot make a logged-in browser call the API (no CSRF).
    """
    request.max_content_length = MAX_BODY_BYTES
    if request.endpoint not in OPEN_ENDPOINTS:
        token = bearer_token()
        if token is None:
            abort(403, "API token not found in Authorization header.")
        staff = staff_for_token(db(), token)
        if staff is None:
            abort(403, "API token is invalid or expired.")
        g.staff = staff
    if request.method == "POST":
        body = request.get_data(cache=True)
        if not body:
            if request.endpoint not in BODILESS_POSTS:
                abort(400, "malformed request")
            return
        try:
            g.json = json.loads(body.decode("utf-8"))
        except ValueError:  # includes UnicodeDecodeError
            abort(400, "malformed request")


def json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object."""
    body = g.get("json")
    if not isinstance(body, dict):
        abort(400, "please send requests in valid JSON")
    return body


def current_staff() -> Staff:
    """The staff member whose token this request carries."""
    staff: Staff = g.staff
    return staff
