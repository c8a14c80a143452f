"""Admins changing the instance settings: name, logo, and what sources may send."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import record
from journalist_interface.settings_form import SettingsForm, stored_form
from journalist_interface.staff_session import admin_required
from seethesigns.audit import actions
from seethesigns.audit.chain import Target
from seethesigns.instance_settings import (
    MIN_MESSAGE_LENGTH_MAX,
    REPLY_WITHIN_HOURS_MAX,
    RETENTION_DAYS_MAX,
    WAIT_MINUTES_MAX,
    WHO_READS_MAX,
    Disguise,
    InstanceSettingsError,
    ReplyPromise,
    UrgentHelp,
    WhoReads,
    disguise,
    instance_config,
    remove_logo,
    reply_promise,
    set_logo,
    update_disguise,
    update_reply_promise,
    update_settings,
    update_urgent_help,
    urgent_help,
    who_reads,
)
from seethesigns.logos import MAX_LOGO_BYTES, LogoError, read_limited
from seethesigns.web.request_body import SMALL_BODY_BYTES, BodyLimit, takes_body
from seethesigns.web.setup import db

bp = Blueprint("admin_settings", __name__, url_prefix="/admin/settings")
SETTINGS = Target("settings")


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(
        "admin_settings.html",
        notice=request.args.get("notice"),
        max_logo_kib=MAX_LOGO_BYTES // 1024,
        max_min_length=MIN_MESSAGE_LENGTH_MAX,
        max_retention=RETENTION_DAYS_MAX,
        help_services=context.pop("help_services", None) or urgent_help(db()),
        disguise=context.pop("disguise", None) or disguise(db()),
        replies=context.pop("replies", None) or reply_promise(db()),
        max_reply_hours=REPLY_WITHIN_HOURS_MAX,
        max_wait_minutes=WAIT_MINUTES_MAX,
        who=context.pop("who", None) or who_reads(db()),
        max_who_reads=WHO_READS_MAX,
        form=context.pop("form", None) or stored_form(instance_config(db())),
        **context,
    ), status


@bp.route("", methods=["GET", "POST"])
@admin_required
def index() -> Response | tuple[str, int]:
    """Show the settings, or store the submitted ones (all or none)."""
    if request.method == "GET":
        return _page()
    form = SettingsForm(request.form)
    if not form.validate():
        return _page(400, error=form.first_error(), form=form)
    try:
        update_settings(db(), form.changes())
    except InstanceSettingsError as exc:
        return _page(400, error=str(exc), form=form)
    record(actions.SETTINGS_UPDATE, SETTINGS, **form.changes().__dict__)
    return redirect(url_for("admin_settings.index", notice="saved"))


@bp.post("/logo")
@takes_body(BodyLimit(max_bytes=MAX_LOGO_BYTES + SMALL_BODY_BYTES))
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
    record(actions.SETTINGS_LOGO_SET, SETTINGS)
    return redirect(url_for("admin_settings.index", notice="logo_saved"))


@bp.post("/logo/delete")
@admin_required
def delete_logo() -> Response:
    """Remove the logo: headers show the organisation's name alone."""
    remove_logo(db())
    record(actions.SETTINGS_LOGO_REMOVE, SETTINGS)
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
    record(actions.SETTINGS_URGENT_HELP, SETTINGS, **services.__dict__)
    return redirect(url_for("admin_settings.index", notice="help_saved"))


@bp.post("/disguise")
@admin_required
def disguise_settings() -> Response | tuple[str, int]:
    """Store every source page's title and the quick exit's page (both or neither)."""
    chosen = Disguise(request.form.get("site_title", ""), request.form.get("exit_url", ""))
    try:
        update_disguise(db(), chosen)
    except InstanceSettingsError as exc:
        return _page(400, disguise_error=str(exc), disguise=chosen)
    record(actions.SETTINGS_DISGUISE, SETTINGS, **chosen.__dict__)
    return redirect(url_for("admin_settings.index", notice="disguise_saved"))


def _whole_number(name: str) -> int:
    """A form field as an int; 0 (refused by every range check) when it is not a number."""
    text = request.form.get(name, "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else 0


@bp.post("/replies")
@admin_required
def reply_settings() -> Response | tuple[str, int]:
    """Store how soon replies come, the waiting page and who reads reports (all or none)."""
    chosen = ReplyPromise(
        reply_within_hours=_whole_number("reply_within_hours"),
        wait_offered=request.form.get("wait_offered") == "1",
        wait_minutes=_whole_number("wait_minutes"),
    )
    who = WhoReads(request.form.get("readers", ""), request.form.get("shared_with", ""))
    try:
        update_reply_promise(db(), chosen, who)
    except InstanceSettingsError as exc:
        return _page(400, replies_error=str(exc), replies=chosen, who=who)
    record(actions.SETTINGS_REPLIES, SETTINGS, **chosen.__dict__, **who_reads(db()).__dict__)
    return redirect(url_for("admin_settings.index", notice="replies_saved"))
