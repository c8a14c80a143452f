"""Admins changing the instance settings: name, logo, and what sources may send."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from journalist_interface.staff_session import admin_required
from seethesigns.instance_settings import (
    MIN_MESSAGE_LENGTH_MAX,
    RETENTION_DAYS_MAX,
    Changes,
    InstanceSettingsError,
    UrgentHelp,
    instance_config,
    remove_logo,
    set_logo,
    update_settings,
    update_urgent_help,
    urgent_help,
)
from seethesigns.logos import MAX_LOGO_BYTES, LogoError, read_limited
from seethesigns.web.setup import db

bp = Blueprint("admin_settings", __name__, url_prefix="/admin/settings")


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(
        "admin_settings.html",
        config=instance_config(db()),
        notice=request.args.get("notice"),
        max_logo_kib=MAX_LOGO_BYTES // 1024,
        max_min_length=MIN_MESSAGE_LENGTH_MAX,
        max_retention=RETENTION_DAYS_MAX,
        help_services=context.pop("help_services", None) or urgent_help(db()),
        **context,
    ), status


def _number(text: str, what: str) -> int:
    if not text.strip().isdigit():
        raise InstanceSettingsError(f"{what} must be a whole number")
    return int(text)


def _changes(form: MultiDict[str, str]) -> Changes:
    keep = form.get("retention") == "days"
    return Changes(
        organization_name=form.get("organization_name", ""),
        allow_uploads=form.get("allow_uploads") == "yes",
        min_message_length=_number(form.get("min_message_length", ""), "the minimum length"),
        reject_codename_messages=form.get("reject_codename_messages") == "yes",
        retention_days=_number(form.get("retention_days", ""), "the days") if keep else None,
    )


@bp.route("", methods=["GET", "POST"])
@admin_required
def index() -> Response | tuple[str, int]:
    """Show the settings, or store the submitted ones (all or none)."""
    if request.method == "GET":
        return _page()
    try:
        update_settings(db(), _changes(request.form))
    except InstanceSettingsError as exc:
        return _page(400, error=str(exc), form=request.form)
    return redirect(url_for("admin_settings.index", notice="saved"))


@bp.post("/logo")
@admin_required
def logo() -> Response | tuple[str, int]:
    """Store an uploaded PNG logo, re-encoded; refuse anything else with the reason."""
    upload = request.files.get("logo")
    if upload is None or not upload.filename:
        return _page(400, logo_error="choose a PNG file to upload")
    try:
        set_logo(db(), read_limited(upload.stream))
    except LogoError as exc:
        return _page(400, logo_error=str(exc))
    return redirect(url_for("admin_settings.index", notice="logo_saved"))


@bp.post("/logo/delete")
@admin_required
def delete_logo() -> Response:
    """Remove the logo: headers show the organisation's name alone."""
    remove_logo(db())
    return redirect(url_for("admin_settings.index", notice="logo_removed"))


@bp.post("/urgent-help")
@admin_required
def urgent_help_services() -> Response | tuple[str, int]:
    """Store the services every source page names under "Need help now?" (all or none)."""
    fields = UrgentHelp.__dataclass_fields__
    services = UrgentHelp(**{name: request.form.get(name, "") for name in fields})
    try:
        update_urgent_help(db(), services)
    except InstanceSettingsError as exc:
        return _page(400, help_error=str(exc), help_services=services)
    return redirect(url_for("admin_settings.index", notice="help_saved"))
