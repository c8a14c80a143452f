"""Alerts on the staff side: acknowledging an urgent alert, choosing one's own alerts, and the
admin's batch interval (issue 13). The staff interface only writes rows; it never sends mail."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import record
from journalist_interface.staff_reach import reach
from journalist_interface.staff_session import (
    admin_required,
    login_required,
    reauthentication_required,
)
from seethesigns.alerts.outbox import acknowledge_urgent
from seethesigns.alerts.recipients import RecipientError, choose_alerts
from seethesigns.audit.actions import ACCOUNT_ALERTS, ALERT_ACKNOWLEDGE, SETTINGS_ALERTS
from seethesigns.audit.chain import Target
from seethesigns.instance_settings import (
    ALERT_BATCH_MINUTES_MAX,
    InstanceSettingsError,
    alert_batch_minutes,
    update_alert_batch_minutes,
)
from seethesigns.web.setup import db

bp = Blueprint("alerts", __name__)


@bp.post("/alerts/acknowledge")
@login_required
def acknowledge() -> Response:
    """Someone has the urgent report in hand: the repeating alert stops for everyone."""
    waiting = acknowledge_urgent(db(), g.staff, reach())
    record(ALERT_ACKNOWLEDGE, reports=waiting)
    return redirect(url_for("sources.index", notice="acknowledged"))


@bp.post("/account/alerts")
@login_required
# Re-authentication: a session left open must not be enough to send alerts elsewhere.
@reauthentication_required("account.index")
def choose() -> Response | tuple[str, int]:
    """Turn one's own alerts on or off and set the address they go to."""
    enabled = request.form.get("alerts_enabled") == "1"
    try:
        choose_alerts(db(), g.staff, enabled, request.form.get("alert_address", ""))
    except RecipientError as exc:
        page = render_template("account.html", alerts_error=str(exc), notice=None)
        return page, 400
    # Whether, not where: a staff member's own address stays out of the log.
    record(ACCOUNT_ALERTS, enabled=enabled)
    return redirect(url_for("account.index", notice="alerts_saved"))


@bp.route("/admin/alerts", methods=["GET", "POST"])
@admin_required
def timing() -> Response | tuple[str, int]:
    """Show or store how long alerts for reports not marked urgent are gathered."""
    error = None
    if request.method == "POST":
        text = request.form.get("batch_minutes", "").strip()
        minutes = int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else 0
        try:
            update_alert_batch_minutes(db(), minutes)
        except InstanceSettingsError as exc:
            error = str(exc)
        else:
            record(SETTINGS_ALERTS, Target("settings"), batch_minutes=minutes)
            return redirect(url_for("alerts.timing", notice="saved"))
    page = render_template(
        "admin_alerts.html",
        minutes=alert_batch_minutes(db()),
        max_minutes=ALERT_BATCH_MINUTES_MAX,
        error=error,
        notice=request.args.get("notice"),
    )
    return page, 400 if error else 200
