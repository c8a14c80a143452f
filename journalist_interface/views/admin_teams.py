"""Admins managing teams: making and renaming them, the front door, and who belongs.

Membership decides which cases a staff member sees, and the front door decides who receives
every new report, so each change needs a recent re-authentication, as staff changes do, and
is in the audit log.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import record
from journalist_interface.staff_session import admin_required, reauthentication_required
from seethesigns.audit.actions import TEAM_ADD, TEAM_FRONT_DOOR, TEAM_MEMBERS, TEAM_RENAME
from seethesigns.audit.chain import Target
from seethesigns.models import Staff, Team
from seethesigns.recipients import all_recipients, grouped
from seethesigns.teams.membership import (
    TeamError,
    all_teams,
    case_counts,
    create_team,
    front_door,
    make_front_door,
    members_of,
    rename_team,
    set_teams,
)
from seethesigns.web.setup import db

bp = Blueprint("admin_teams", __name__, url_prefix="/admin/teams")


def _team_or_404(team_uuid: str) -> Team:
    return db().scalar(select(Team).where(Team.uuid == team_uuid)) or abort(404)


def _page(status: int = 200, **context: Any) -> tuple[str, int]:
    front_door(db())
    teams = all_teams(db())
    keys = all_recipients(db())
    return render_template(
        "admin_teams.html",
        teams=teams,
        members={team.id: members_of(db(), team) for team in teams},
        keys={team.id: [key for key in keys if key.team_id == team.id] for team in teams},
        cases=case_counts(db()),
        staff=list(db().scalars(select(Staff).order_by(Staff.username))),
        grouped=grouped,
        notice=request.args.get("notice"),
        **context,
    ), status


@bp.get("")
@admin_required
def index() -> tuple[str, int]:
    """Every team with its members, keys and number of cases; forms to change them."""
    return _page()


@bp.post("/new")
@admin_required
@reauthentication_required("admin_teams.index")
def add() -> Response | tuple[str, int]:
    """Make a team, with no members, keys or cases yet."""
    try:
        team = create_team(db(), request.form.get("name", ""))
    except TeamError as exc:
        return _page(400, error=str(exc), name=request.form.get("name", ""))
    record(TEAM_ADD, Target("team", team.uuid), name=team.name)
    return redirect(url_for("admin_teams.index", notice="added"))


@bp.post("/<team_uuid>/rename")
@admin_required
@reauthentication_required("admin_teams.index")
def rename(team_uuid: str) -> Response | tuple[str, int]:
    """Give a team a new name."""
    team = _team_or_404(team_uuid)
    before = team.name
    try:
        rename_team(db(), team, request.form.get("name", ""))
    except TeamError as exc:
        return _page(400, error=str(exc))
    record(TEAM_RENAME, Target("team", team.uuid), before=before, name=team.name)
    return redirect(url_for("admin_teams.index", notice="renamed"))


@bp.post("/<team_uuid>/front-door")
@admin_required
@reauthentication_required("admin_teams.index")
def front(team_uuid: str) -> Response | tuple[str, int]:
    """Send every new report to this team from now on."""
    team = _team_or_404(team_uuid)
    try:
        make_front_door(db(), team)
    except TeamError as exc:
        return _page(400, error=str(exc))
    record(TEAM_FRONT_DOOR, Target("team", team.uuid), name=team.name)
    return redirect(url_for("admin_teams.index", notice="front_door"))


@bp.post("/members/<staff_uuid>")
@admin_required
@reauthentication_required("admin_teams.index")
def membership(staff_uuid: str) -> Response | tuple[str, int]:
    """Make the ticked teams exactly this staff member's teams."""
    staff = db().scalar(select(Staff).where(Staff.uuid == staff_uuid)) or abort(404)
    wanted = {team.id for team in all_teams(db()) if team.uuid in request.form.getlist("team")}
    try:
        joined, left = set_teams(db(), staff, wanted)
    except TeamError as exc:
        return _page(400, error=str(exc))
    if joined or left:
        record(
            TEAM_MEMBERS,
            Target("staff", staff.uuid),
            username=staff.username,
            joined=[team.name for team in joined],
            left=[team.name for team in left],
        )
    return redirect(url_for("admin_teams.index", notice="members"))
