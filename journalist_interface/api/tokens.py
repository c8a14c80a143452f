"""Getting a token with passphrase and one-time code, and revoking it."""

from __future__ import annotations

import time

from flask import Blueprint, Response, abort, jsonify

from journalist_interface.api.guard import bearer_token, json_object
from journalist_interface.api.representations import api_time
from journalist_interface.audit_trail import record, record_login_failure
from journalist_interface.staff_session import staff_accounts
from seethesigns.api_tokens import issue_token, revoke_token
from seethesigns.audit.actions import TOKEN_ISSUE, TOKEN_REVOKE
from seethesigns.staff_accounts import LoginFailed
from seethesigns.web.setup import db

bp = Blueprint("tokens", __name__)


@bp.post("/token")
def get_token() -> tuple[Response, int]:
    """Exchange username, passphrase and one-time code for an 8-hour token.

    Any failure, the lockout after repeated failures included, is SecureDrop's 403 "Token
    authentication failed.", which never says which factor was wrong.
    """
    creds = json_object()
    fields = {}
    for name in ("username", "passphrase", "one_time_code"):
        value = creds.get(name)
        if value is None:
            abort(400, f"{name} field is missing")
        if not isinstance(value, str):
            abort(400, f"{name} must be a string")
        fields[name] = value
    try:
        staff = staff_accounts().authenticate(
            db(), fields["username"], fields["passphrase"], fields["one_time_code"], time.time()
        )
    except LoginFailed:  # LockedOut too
        record_login_failure(fields["username"], "api")
        abort(403, "Token authentication failed.")
    issued = issue_token(db(), staff)
    record(TOKEN_ISSUE, staff=staff, via="api")
    body = {
        "expiration": api_time(issued.expires_at),
        "token": issued.token,
        "journalist_uuid": staff.uuid,
        "journalist_first_name": staff.display_name,
        "journalist_last_name": None,
    }
    return jsonify(body), 200


@bp.post("/logout")
def logout() -> tuple[Response, int]:
    """Revoke the token this request carries."""
    token = bearer_token()
    assert token is not None  # the guard let this request through
    revoke_token(db(), token)
    record(TOKEN_REVOKE, via="api")
    return jsonify({"message": "Your token has been revoked."}), 200
