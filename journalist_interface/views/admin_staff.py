"""Admins managing staff: add, grant or take away admin, reset secrets, delete.

Secrets made here (a passphrase, a two-factor secret) are shown once, in the response to the
POST that made them, and never again. An admin's own passphrase and two-factor are changed
on their account page. Every change here needs a recent re-authentication (SecureDrop audit
SEC-01-010: an open admin session alone could create an admin and read its secrets).
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import of_staff, record
from journalist_interface.staff_session import (
    admin_required,
    reauthentication_required,
    staff_accounts,
)
from journalist_interface.totp_qr import grouped, qr_svg
from seethesigns.audit.actions import (
    STAFF_ADD,
    STAFF_ADMIN,
    STAFF_DELETE,
    STAFF_PASSPHRASE_RESET,
    STAFF_TWO_FACTOR_CONFIRM,
    STAFF_TWO_FACTOR_RESET,
)
from seethesigns.models import Staff
from seethesigns.staff_accounts import LockedOut, StaffError, WrongCode
from seethesigns.staff_admin import delete_staff, find_staff, list_staff, set_admin
from seethesigns.web.setup import db

bp = Blueprint("admin_staff", __name__, url_prefix="/admin/staff")


def _target(staff_uuid: str) -> Staff:
    found = find_staff(db(), staff_uuid)
    if found is None:
        abort(404)
    return found


def _manage_page(target: Staff, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(
        "admin_staff_manage.html", target=target, notice=request.args.get("notice"), **context
    ), status


def _secrets_page(
    target: Staff, passphrase: str | None, totp_secret: str | None, handover: bool = False
) -> str:
    return render_template(
        "admin_staff_secrets.html",
        target=target,
        passphrase=passphrase,
        totp_secret=grouped(totp_secret) if totp_secret else None,
        qr=qr_svg(totp_secret, target.username) if totp_secret else None,
        handover=handover,
    )


def _managed(staff_uuid: str) -> Staff | None:
    """The target of a secrets reset, or None when it is the admin's own account."""
    target = _target(staff_uuid)
    return None if target.id == g.staff.id else target


@bp.get("")
@admin_required
def index() -> str:
    """Every staff account, with who is an admin."""
    return render_template(
        "admin_staff_list.html", rows=list_staff(db()), notice=request.args.get("notice")
    )


@bp.route("/new", methods=["GET", "POST"])
@admin_required
@reauthentication_required("admin_staff.add")
def add() -> str | tuple[str, int]:
    """Add a staff member; show their passphrase and two-factor secret once."""
    if request.method == "GET":
        return render_template("admin_staff_new.html")
    username = request.form.get("username", "")
    make_admin = request.form.get("is_admin") == "yes"
    try:
        created = staff_accounts().create(db(), username, is_admin=make_admin)
    except StaffError as exc:
        return render_template("admin_staff_new.html", error=str(exc), username=username), 400
    record(STAFF_ADD, of_staff(created.staff), username=created.staff.username, admin=make_admin)
    return _secrets_page(created.staff, created.passphrase, created.totp_secret)


@bp.get("/<staff_uuid>")
@admin_required
def manage(staff_uuid: str) -> tuple[str, int]:
    """One account and what an admin can do to it."""
    return _manage_page(_target(staff_uuid))


@bp.post("/<staff_uuid>/admin")
@admin_required
@reauthentication_required("admin_staff.manage")
def change_admin(staff_uuid: str) -> Response | tuple[str, int]:
    """Make the account an admin, or take that away (never from the last admin)."""
    target = _target(staff_uuid)
    try:
        set_admin(db(), g.staff, target, request.form.get("is_admin") == "yes")
    except StaffError as exc:
        return _manage_page(target, 409, error=str(exc))
    record(STAFF_ADMIN, of_staff(target), username=target.username, admin=target.is_admin)
    return redirect(url_for("admin_staff.manage", staff_uuid=target.uuid, notice="admin_changed"))


@bp.post("/<staff_uuid>/passphrase")
@admin_required
@reauthentication_required("admin_staff.manage")
def reset_passphrase(staff_uuid: str) -> Response | str:
    """Give the account a new passphrase, shown once; its sessions end."""
    target = _managed(staff_uuid)
    if target is None:
        return redirect(url_for("account.index"))
    passphrase = staff_accounts().reset_passphrase(db(), target)
    record(STAFF_PASSPHRASE_RESET, of_staff(target), username=target.username)
    return _secrets_page(target, passphrase, None)


@bp.post("/<staff_uuid>/two-factor")
@admin_required
@reauthentication_required("admin_staff.manage")
def reset_two_factor(staff_uuid: str) -> Response | str:
    """Replace the account's two-factor: the old device stops working; hand over the new one."""
    target = _managed(staff_uuid)
    if target is None:
        return redirect(url_for("account.index"))
    secret = staff_accounts().start_two_factor(db(), g.staff, target)
    record(STAFF_TWO_FACTOR_RESET, of_staff(target), username=target.username)
    return _secrets_page(target, None, secret, handover=True)


@bp.post("/<staff_uuid>/two-factor/confirm")
@admin_required
@reauthentication_required("admin_staff.manage")
def confirm_two_factor(staff_uuid: str) -> Response | tuple[str, int]:
    """Activate the handed-over secret with a code read from the new device."""
    target = _managed(staff_uuid)
    if target is None:
        return redirect(url_for("account.index"))
    token = request.form.get("token", "")
    try:
        staff_accounts().confirm_two_factor(db(), g.staff, target, token, time.time())
    except LockedOut:
        return _manage_page(target, 429, error="too many wrong codes: wait a few minutes")
    except WrongCode as exc:
        return _manage_page(target, 400, error=str(exc))
    record(STAFF_TWO_FACTOR_CONFIRM, of_staff(target), username=target.username)
    return redirect(
        url_for("admin_staff.manage", staff_uuid=target.uuid, notice="two_factor_confirmed")
    )


@bp.post("/<staff_uuid>/delete")
@admin_required
@reauthentication_required("admin_staff.manage")
def delete(staff_uuid: str) -> Response | tuple[str, int]:
    """Delete the account once confirmed; their replies stay, from a deleted account."""
    target = _target(staff_uuid)
    if request.form.get("confirm") != "yes":
        return _manage_page(target, 400, error="nothing was deleted: tick the box to confirm")
    try:
        delete_staff(db(), g.staff, target)
    except StaffError as exc:
        return _manage_page(target, 409, error=str(exc))
    record(STAFF_DELETE, of_staff(target), username=target.username)
    return redirect(url_for("admin_staff.index", notice="deleted"))
