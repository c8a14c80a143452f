"""Admins reading the audit log: filtered pages, newest first, a CSV export, its retention.

Reading or exporting the log is itself recorded: who looked at the record of who did what.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, redirect, render_template, request, stream_with_context, url_for
from flask import Response as FlaskResponse
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import record
from journalist_interface.staff_session import admin_required
from seethesigns.audit.actions import (
    ACTIONS,
    AUDIT_EXPORT,
    AUDIT_VIEW,
    SETTINGS_AUDIT_RETENTION,
)
from seethesigns.audit.chain import Target
from seethesigns.audit.log_query import AuditFilter, audit_page, csv_rows, usernames
from seethesigns.audit.retention import (
    MAX_DAYS,
    MIN_DAYS,
    audit_retention_days,
    update_audit_retention,
)
from seethesigns.instance_settings import InstanceSettingsError
from seethesigns.web.setup import db, services

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")


def _page(wanted: AuditFilter, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(
        "admin_audit.html",
        log=audit_page(db(), wanted),
        wanted=wanted,
        actions=sorted(ACTIONS),
        usernames=usernames(db()),
        retention_days=audit_retention_days(db()),
        min_days=MIN_DAYS,
        max_days=MAX_DAYS,
        notice=request.args.get("notice"),
        **context,
    ), status


@bp.get("")
@admin_required
def index() -> tuple[str, int]:
    """A page of the log, newest first, filtered by staff member, action and dates."""
    wanted = AuditFilter.from_args(request.args)
    record(AUDIT_VIEW, Target("audit"), filters=wanted.arguments(), page=wanted.page)
    return _page(wanted)


@bp.get("/export.csv")
@admin_required
def export() -> Response:
    """The filtered log as CSV, streamed; cells a spreadsheet would run are defused."""
    wanted = AuditFilter.from_args(request.args)
    record(AUDIT_EXPORT, Target("audit"), filters=wanted.arguments())
    factory = services().db

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        with factory() as session:
            for row in csv_rows(session, wanted):
                writer.writerow(row)
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()

    response = FlaskResponse(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=audit-log.csv"
    return response


@bp.post("/retention")
@admin_required
def retention() -> Response | tuple[str, int]:
    """Set how long audit entries are kept (separately from reports)."""
    text = request.form.get("audit_retention_days", "").strip()
    days = int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else 0
    before = audit_retention_days(db())
    try:
        update_audit_retention(db(), days)
    except InstanceSettingsError as exc:
        return _page(AuditFilter(), 400, retention_error=str(exc))
    record(SETTINGS_AUDIT_RETENTION, Target("settings"), days=days, was=before)
    return redirect(url_for("admin_audit.index", notice="retention_saved"))
