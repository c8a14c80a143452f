"""Admins managing recipients: the public keys every new report and reply is encrypted to.

Adding a key gives its holder every report from then on, and retiring one can leave a team
unable to read new reports, so both need a recent re-authentication, as staff changes do.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import record
from journalist_interface.staff_session import admin_required, reauthentication_required
from seethesigns.audit.actions import RECIPIENT_ADD, RECIPIENT_RETIRE
from seethesigns.audit.chain import Target
from seethesigns.encryption import EncryptionError
from seethesigns.models import Team
from seethesigns.recipients import (
    RecipientError,
    add_recipient,
    all_recipients,
    ensure_configured,
    grouped,
    retire_recipient,
)
from seethesigns.teams.membership import all_teams, front_door
from seethesigns.web.setup import db, services

bp = Blueprint("admin_recipients", __name__, url_prefix="/admin/recipients")
# An armored public key with a few subkeys and user ids is a few KB; this is plenty.
MAX_KEY_CHARS = 100_000


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    ensure_configured(db(), services().gpg)
    return render_template(
        "admin_recipients.html",
        rows=all_recipients(db()),
        teams=all_teams(db()),
        grouped=grouped,
        notice=request.args.get("notice"),
        **context,
    ), status


@bp.get("")
@admin_required
def index() -> tuple[str, int]:
    """Every recipient key, active and retired, and a form to add one."""
    return _page()


@bp.post("/new")
@admin_required
@reauthentication_required("admin_recipients.index")
def add() -> Response | tuple[str, int]:
    """Encrypt every new item to one more public key, pasted in armored."""
    name = request.form.get("name", "")
    armored = request.form.get("public_key", "")
    chosen = request.form.get("team", "")
    # The form always names one; without it, the front door, as the CLI's default.
    team = db().scalar(select(Team).where(Team.uuid == chosen)) if chosen else front_door(db())
    try:
        if len(armored) > MAX_KEY_CHARS:
            raise RecipientError("that is too long to be a public key")
        if team is None:
            raise RecipientError("choose the team the key belongs to")
        added = add_recipient(db(), services().gpg, name, armored, team.id)
    except (EncryptionError, RecipientError) as exc:
        return _page(400, error=str(exc), name=name)
    record(RECIPIENT_ADD, Target("recipient", added.fingerprint), name=added.name, team=team.name)
    return redirect(url_for("admin_recipients.index", notice="added"))


@bp.post("/<fingerprint>/retire")
@admin_required
@reauthentication_required("admin_recipients.index")
def retire(fingerprint: str) -> Response | tuple[str, int]:
    """Stop encrypting new items to a key; what it can already open stays readable."""
    try:
        retired = retire_recipient(db(), services().gpg, fingerprint)
    except RecipientError as exc:
        return _page(400, error=str(exc))
    record(RECIPIENT_RETIRE, Target("recipient", retired.fingerprint), name=retired.name)
    return redirect(url_for("admin_recipients.index", notice="retired"))
