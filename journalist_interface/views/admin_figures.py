"""The partnership's figures: reports per week, urgent share, waiting times, case statuses.

Content-free by construction: seethesigns.figures reads timestamps, the urgent mark and
statuses, never a report. Admins only, as the board's figures are theirs to hand on.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

from journalist_interface.audit_trail import record
from journalist_interface.staff_session import admin_required
from seethesigns.audit.actions import FIGURES_EXPORT, FIGURES_VIEW
from seethesigns.cases import STATUS_NAMES
from seethesigns.figures import (
    Spread,
    WeekFigures,
    case_statuses,
    partnership_figures,
    weekly_figures,
)
from seethesigns.models.base import utcnow
from seethesigns.spreadsheet import csv_text
from seethesigns.web.setup import db

bp = Blueprint("admin_figures", __name__, url_prefix="/admin/figures")
WEEK_COLUMNS = (
    "iso_week",
    "week_starting",
    "reports",
    "first_reports",
    "returning_reports",
    "urgent_reports",
    "urgent_percent",
    "downloaded",
    "not_yet_downloaded",
    "median_hours_to_first_download",
    "p90_hours_to_first_download",
    "replied",
    "not_yet_replied",
    "median_hours_to_first_reply",
    "p90_hours_to_first_reply",
)


def duration(seconds: float | None) -> str:
    """A wait as a person reads it: "25 min", "3 h 20 min", "2 d 4 h"; a dash for none."""
    if seconds is None:
        return "\u2013"  # an en dash
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _hours(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds / 3600:.2f}"


def _spread_cells(spread: Spread) -> list[object]:
    return [
        spread.measured,
        spread.waiting,
        _hours(spread.median_seconds),
        _hours(spread.p90_seconds),
    ]


def _week_row(week: WeekFigures) -> list[object]:
    share = week.urgent_share
    return [
        week.label,
        week.monday.isoformat(),
        week.reports,
        week.first_reports,
        week.returning_reports,
        week.urgent,
        "" if share is None else f"{share * 100:.1f}",
        *_spread_cells(week.to_download),
        *_spread_cells(week.to_reply),
    ]


def _csv(name: str, text: str) -> Response:
    filename = f"seethesigns-{name}-{utcnow():%Y-%m-%d}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("")
@admin_required
def index() -> str:
    """The figures, newest week first, with what each one means."""
    figures = partnership_figures(db())
    record(FIGURES_VIEW)
    return render_template(
        "admin_figures.html", figures=figures, duration=duration, status_names=STATUS_NAMES
    )


@bp.get("/weeks.csv")
@admin_required
def weeks_csv() -> Response:
    """The weekly figures as CSV, oldest week first, waits in hours."""
    rows = [_week_row(week) for week in reversed(weekly_figures(db()))]
    record(FIGURES_EXPORT, table="weeks")
    return _csv("weekly-figures", csv_text(WEEK_COLUMNS, rows))


@bp.get("/statuses.csv")
@admin_required
def statuses_csv() -> Response:
    """How many cases are in each status now, as CSV."""
    rows = [(status, count) for status, count in case_statuses(db())]
    record(FIGURES_EXPORT, table="statuses")
    return _csv("case-statuses", csv_text(("status", "cases"), rows))
