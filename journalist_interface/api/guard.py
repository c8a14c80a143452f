"""What every API request goes through: the body's type, the token check, the JSON body."""

from __future__ import annotations

from typing import Any

from flask import abort, g, request

from journalist_interface.api.json_body import MalformedBody, parse_json
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
JSON = "application/json"


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
    check_body_type()
    if request.endpoint not in OPEN_ENDPOINTS:
        token = bearer_token()
        if token is None:
            abort(403, "API token not found in Authorization header.")
        staff = staff_for_token(db(), token)
        if staff is None:
            abort(403, "API token is invalid or expired.")
        if not staff.is_active:
            # Unreachable through /token; a reset ends the account's tokens anyway.
            abort(403, "This account is not active yet: complete its first login.")
        g.staff = staff
    if request.method == "POST":
        body = request.get_data(cache=True)
        if not body:
            if request.endpoint not in BODILESS_POSTS:
                abort(400, "malformed request")
            return
        try:
            g.json = parse_json(body)
        except MalformedBody:
            abort(400, "malformed request")


def check_body_type() -> None:
    """Refuse a body that is not declared JSON (415), before anything reads it.

    A page on any site may send a text/plain or form body to the API without asking (a
    CORS "simple" request): were it read, it would count towards the staff member's lockout.
    securedrop-sdk sends its token request with no Content-Type at all, so that is allowed,
    but not from a browser: every POST a browser sends carries an Origin.
    """
    if not request.content_length and "Transfer-Encoding" not in request.headers:
        return
    declared = request.headers.get("Content-Type")
    if declared is None and "Origin" not in request.headers:
        return
    if request.mimetype != JSON:
        abort(415, f"please send requests in JSON, with Content-Type: {JSON}")


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
