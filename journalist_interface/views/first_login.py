"""A new (or reset) account's first login: choose a passphrase, then confirm a new device.

The admin who made the account handed over its first passphrase and two-factor secret, so
they know both; these steps replace them with secrets only the owner has seen (issue 13).
Until they are done, every other page sends the account here and the API refuses it.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import record
from journalist_interface.staff_session import first_login_required, keep_session, staff_accounts
from journalist_interface.totp_qr import grouped, qr_svg
from seethesigns.audit.actions import FIRST_LOGIN_ACTIVATED, FIRST_LOGIN_PASSPHRASE
from seethesigns.first_login import (
    FirstLoginError,
    NotTypedBack,
    choose_passphrase,
    confirm_two_factor,
    offer_passphrase,
    two_factor_secret,
)
from seethesigns.models.staff import STAFF_PENDING
from seethesigns.staff_accounts import LockedOut, WrongCode
from seethesigns.web.setup import db

bp = Blueprint("first_login", __name__, url_prefix="/first-login")
# The passphrase on offer lives in the sealed server-side session, never in the page's form,
# so what is typed back is checked against what the server showed.
OFFERED = "first_login_passphrase"


def _offered() -> str:
    offered = session.get(OFFERED)
    if not isinstance(offered, str):
        offered = session[OFFERED] = offer_passphrase()
    return offered


def _passphrase_page(status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template("first_login_passphrase.html", offered=_offered(), **context), status


def _two_factor_page(status: int = 200, **context: Any) -> tuple[str, int]:
    secret = two_factor_secret(db(), staff_accounts(), g.staff)
    return render_template(
        "first_login_two_factor.html",
        totp_secret=grouped(secret),
        qr=qr_svg(secret, g.staff.username),
        **context,
    ), status


@bp.get("")
@first_login_required
def index() -> Response:
    """Send the person to the step they have reached."""
    if g.staff.status == STAFF_PENDING:
        return redirect(url_for("first_login.passphrase"))
    return redirect(url_for("first_login.two_factor"))


@bp.route("/passphrase", methods=["GET", "POST"])
@first_login_required
def passphrase() -> Response | tuple[str, int]:
    """Show a new passphrase; take it once typed back. The admin's one then stops working."""
    if g.staff.status != STAFF_PENDING:
        return redirect(url_for("first_login.two_factor"))
    if request.method == "GET":
        return _passphrase_page()
    try:
        choose_passphrase(
            db(), staff_accounts(), g.staff, _offered(), request.form.get("passphrase", "")
        )
    except NotTypedBack:
        return _passphrase_page(400, error="mismatch")
    except FirstLoginError:
        return redirect(url_for("first_login.index"))
    session.pop(OFFERED, None)
    keep_session(g.staff)
    record(FIRST_LOGIN_PASSPHRASE)
    return redirect(url_for("first_login.two_factor"))


@bp.post("/passphrase/another")
@first_login_required
def another_passphrase() -> Response:
    """Offer a different passphrase instead."""
    session[OFFERED] = offer_passphrase()
    return redirect(url_for("first_login.passphrase"))


@bp.route("/two-factor", methods=["GET", "POST"])
@first_login_required
def two_factor() -> Response | tuple[str, int]:
    """Show a new two-factor secret; a code from it makes the account active."""
    if g.staff.status == STAFF_PENDING:
        return redirect(url_for("first_login.passphrase"))
    if request.method == "GET":
        return _two_factor_page()
    token = request.form.get("token", "")
    try:
        confirm_two_factor(db(), staff_accounts(), g.staff, token, time.time())
    except LockedOut:
        return _two_factor_page(429, error="locked")
    except WrongCode:
        return _two_factor_page(400, error="wrong_code")
    except FirstLoginError:
        return redirect(url_for("first_login.index"))
    keep_session(g.staff)
    record(FIRST_LOGIN_ACTIVATED)
    return redirect(url_for("sources.index"))
