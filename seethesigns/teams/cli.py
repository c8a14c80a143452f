"""`seethesigns team add | list | members | front-door`: teams from the server's command line.

The admin Teams page does the same; this is for setting a partnership up before anyone can
log in, and for scripts. Every change is in the audit log, made by "system".
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy import select

from seethesigns.audit.actions import TEAM_ADD, TEAM_FRONT_DOOR, TEAM_MEMBERS
from seethesigns.audit.chain import Target
from seethesigns.cli_options import CONFIG_OPTION, settings_or_exit
from seethesigns.db import engine_for, make_session_factory
from seethesigns.models import Staff
from seethesigns.recipient_cli import audit_cli
from seethesigns.teams.membership import (
    TeamError,
    active_key_count,
    all_teams,
    case_counts,
    create_team,
    front_door,
    make_front_door,
    members_of,
    set_teams,
    team_named,
)


@click.group()
def team() -> None:
    """Teams: who sees which cases, and which team receives new reports."""


@team.command("add")
@click.argument("name")
@CONFIG_OPTION
def add(name: str, config_path: Path | None) -> None:
    """Make a team called NAME, with no members, keys or cases yet."""
    settings = settings_or_exit(config_path)
    with make_session_factory(engine_for(settings))() as db:
        try:
            made = create_team(db, name)
        except TeamError as exc:
            raise click.ClickException(str(exc)) from None
        audit_cli(settings, TEAM_ADD, Target("team", made.uuid), name=made.name)
        click.echo(f"Made the team {made.name!r}.")
        click.echo(f"Next: seethesigns recipient add NAME KEYFILE --team {made.name!r}")


@team.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead.")
@CONFIG_OPTION
def list_command(as_json: bool, config_path: Path | None) -> None:
    """Every team, with its members, active keys and cases; the front door first."""
    settings = settings_or_exit(config_path)
    with make_session_factory(engine_for(settings))() as db:
        front_door(db)
        cases = case_counts(db)
        found = [
            {
                "name": row.name,
                "front_door": row.is_front_door,
                "members": [member.username for member in members_of(db, row)],
                "active_keys": active_key_count(db, row),
                "cases": cases.get(row.id, 0),
            }
            for row in all_teams(db)
        ]
    if as_json:
        click.echo(json.dumps(found))
        return
    for row in found:
        mark = "  (front door)" if row["front_door"] else ""
        click.echo(f"{row['name']}{mark}")
        click.echo(f"    {row['cases']} cases, {row['active_keys']} active keys")
        click.echo(f"    members: {', '.join(row['members']) or 'none'}")  # type: ignore[arg-type]


@team.command("members")
@click.argument("username")
@click.option("--team", "team_names", multiple=True, help="A team (repeat for several).")
@CONFIG_OPTION
def members(username: str, team_names: tuple[str, ...], config_path: Path | None) -> None:
    """Make the teams named exactly USERNAME's teams (none: they see no case)."""
    settings = settings_or_exit(config_path)
    with make_session_factory(engine_for(settings))() as db:
        staff = db.scalar(select(Staff).where(Staff.username == username))
        if staff is None:
            raise click.ClickException(f"there is no staff member called {username!r}")
        try:
            wanted = {team_named(db, name).id for name in team_names}
            joined, left = set_teams(db, staff, wanted)
        except TeamError as exc:
            raise click.ClickException(str(exc)) from None
        if joined or left:
            audit_cli(
                settings,
                TEAM_MEMBERS,
                Target("staff", staff.uuid),
                username=staff.username,
                joined=[row.name for row in joined],
                left=[row.name for row in left],
            )
        names = ", ".join(sorted(team_names)) or "no team"
        click.echo(f"{username} is now in: {names}.")


@team.command("front-door")
@click.argument("name")
@CONFIG_OPTION
def front_door_command(name: str, config_path: Path | None) -> None:
    """Send every new report to the team NAME from now on."""
    settings = settings_or_exit(config_path)
    with make_session_factory(engine_for(settings))() as db:
        try:
            chosen = team_named(db, name)
            make_front_door(db, chosen)
        except TeamError as exc:
            raise click.ClickException(str(exc)) from None
        audit_cli(settings, TEAM_FRONT_DOOR, Target("team", chosen.uuid), name=chosen.name)
        click.echo(f"New reports now go to {chosen.name}.")
