"""A staff member's own account: display name, a new passphrase, a new two-factor device.

Changing a secret needs a recent re-authentication, with the passphrase and a new code from
the current device, so a session left open on a shared computer is not enough to take the
account over (SecureDrop audit SEC-01-010).
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import record
from journalist_interface.staff_session import (
    keep_session,
    login_required,
    reauthentication_required,
    staff_accounts,
)
from journalist_interface.totp_qr import grouped, qr_svg
from seethesigns.audit.actions import (
    ACCOUNT_PASSPHRASE,
    ACCOUNT_RENAME,
    ACCOUNT_TWO_FACTOR_CONFIRM,
    ACCOUNT_TWO_FACTOR_START,
)
from seethesigns.staff_accounts import LockedOut, StaffError, WrongCode, rename
from seethesigns.web.setup import db

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template("account.html", notice=request.args.get("notice"), **context), status


@bp.get("")
@login_required
def index() -> tuple[str, int]:
    """What this person can change about their own account."""
    return _page()


@bp.post("/name")
@login_required
def change_name() -> Response | tuple[str, int]:
    """Set the display name colleagues see."""
    try:
        rename(db(), g.staff, request.form.get("display_name", ""))
    except StaffError as exc:
        return _page(400, error="name", detail=str(exc))
    record(ACCOUNT_RENAME)
    return redirect(url_for("account.index", notice="name_changed"))


@bp.post("/passphrase")
@login_required
@reauthentication_required("account.index")
def new_passphrase() -> str | tuple[str, int]:
    """Replace the passphrase with a new server-made one, shown once; other sessions end."""
    passphrase = staff_accounts().reset_passphrase(db(), g.staff)
    record(ACCOUNT_PASSPHRASE)
    keep_session(g.staff)
    return render_template("account_secrets.html", passphrase=passphrase)


@bp.post("/two-factor")
@login_required
@reauthentication_required("account.index")
def new_two_factor() -> str | tuple[str, int]:
    """Start moving two-factor to a new device; the current one works until it is confirmed."""
    secret = staff_accounts().start_two_factor(db(), g.staff, g.staff)
    record(ACCOUNT_TWO_FACTOR_START)
    return render_template(
        "account_secrets.html", totp_secret=grouped(secret), qr=qr_svg(secret, g.staff.username)
    )


@bp.post("/two-factor/confirm")
@login_required
@reauthentication_required("account.index")
def confirm_two_factor() -> Response | tuple[str, int]:
    """Switch to the new device once a code from it matches; other sessions end."""
    token = request.form.get("token", "")
    try:
        staff_accounts().confirm_two_factor(db(), g.staff, g.staff, token, time.time())
    except LockedOut:
        return _page(429, error="locked")
    except WrongCode:
        return _page(400, error="wrong_code")
    record(ACCOUNT_TWO_FACTOR_CONFIRM)
    keep_session(g.staff)
    return redirect(url_for("account.index", notice="two_factor_changed"))
