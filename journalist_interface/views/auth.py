"""Logging in with passphrase and one-time code, and logging out."""

from __future__ import annotations

import time

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import record, record_login_failure, record_logout
from journalist_interface.staff_session import current_staff, log_in, log_out, staff_accounts
from seethesigns.audit.actions import LOGIN_SUCCESS
from seethesigns.staff_accounts import LoginFailed
from seethesigns.web.setup import db

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Log in; a failure never says which of the three things was wrong."""
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(url_for("sources.index"))
        return render_template("login.html")
    form = request.form
    username = form.get("username", "")
    try:
        staff = staff_accounts().authenticate(
            db(), username, form.get("passphrase", ""), form.get("token", ""), time.time()
        )
    except LoginFailed:
        # LockedOut included: a distinct answer for a locked account would tell someone
        # guessing that the username exists, so the page mentions lockout for every failure.
        record_login_failure(username, "web")
        return render_template("login.html", failed=True, username=username), 401
    log_in(staff)
    record(LOGIN_SUCCESS, staff=staff, via="web")
    return redirect(url_for("sources.index"))


@bp.post("/logout")
def logout() -> Response:
    """End the session, here and in the database."""
    record_logout(current_staff())
    log_out()
    return redirect(url_for("auth.login"))
