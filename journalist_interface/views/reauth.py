"""Confirming it is still you before a powerful action: passphrase and a new one-time code."""

from __future__ import annotations

import time

from flask import Blueprint, g, redirect, render_template, request
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import record
from journalist_interface.staff_session import (
    continue_after_reauthentication,
    login_required,
    mark_reauthenticated,
    staff_accounts,
)
from seethesigns.audit.actions import REAUTH_FAILURE, REAUTH_SUCCESS
from seethesigns.staff_accounts import LockedOut, LoginFailed
from seethesigns.web.setup import db, services

bp = Blueprint("reauth", __name__)


def _page(status: int = 200, error: str | None = None) -> tuple[str, int]:
    minutes = services().settings.login.reauth_minutes
    return render_template("reauth.html", error=error, minutes=minutes), status


@bp.route("/reauthenticate", methods=["GET", "POST"])
@login_required
def reauthenticate() -> Response | tuple[str, int]:
    """Ask for the passphrase and a new code; then carry on to where the person was going."""
    if request.method == "GET":
        return _page()
    form = request.form
    try:
        staff_accounts().reauthenticate(
            db(), g.staff, form.get("passphrase", ""), form.get("token", ""), time.time()
        )
    except LockedOut:
        record(REAUTH_FAILURE, locked=True)
        return _page(429, "locked")
    except LoginFailed:
        record(REAUTH_FAILURE)
        return _page(400, "failed")
    record(REAUTH_SUCCESS)
    mark_reauthenticated()
    return redirect(continue_after_reauthentication())
