"""Teams, the front door that receives new reports, and who belongs to which team."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seethesigns.models import Recipient, Source, Staff, Team, TeamMember

FIRST_TEAM = "Front door"
MAX_NAME_CHARS = 100


class TeamError(Exception):
    """A team change that cannot be made, with the reason in plain words."""


def all_teams(db: Session) -> list[Team]:
    """Every team, front door first, then by name."""
    return list(db.scalars(select(Team).order_by(Team.is_front_door.desc(), Team.name)))


def front_door(db: Session) -> Team:
    """The team that receives new reports; made ("Front door") if there is no team yet.

    Migration 0013 makes it for an existing instance. A database built without migrations
    (or one whose teams were all made by hand without a front door) gets it here.
    """
    found = db.scalar(select(Team).where(Team.is_front_door.is_(True)).limit(1))
    if found is not None:
        return found
    existing = db.scalar(select(Team).order_by(Team.id).limit(1))
    if existing is not None:
        existing.is_front_door = True
        db.commit()
        return existing
    db.add(Team(name=FIRST_TEAM, is_front_door=True))
    try:
        db.commit()
    except IntegrityError:  # another worker made it a moment ago
        db.rollback()
    return db.scalars(select(Team).where(Team.is_front_door.is_(True))).one()


def front_door_id(db: Session) -> int:
    """The front door's id, in one query when it exists."""
    found = db.scalar(select(Team.id).where(Team.is_front_door.is_(True)).limit(1))
    return found if found is not None else front_door(db).id


def team_named(db: Session, name: str) -> Team:
    """The team with this name (spaces and case as typed are forgiven), or TeamError."""
    wanted = " ".join(name.split()).casefold()
    for team in all_teams(db):
        if team.name.casefold() == wanted:
            return team
    raise TeamError(f"there is no team called {name!r}")


def _checked_name(db: Session, name: str, *, other_than: int | None = None) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME_CHARS:
        raise TeamError(f"give the team a name of 1 to {MAX_NAME_CHARS} characters")
    for team in all_teams(db):
        if team.name.casefold() == name.casefold() and team.id != other_than:
            raise TeamError(f"there is already a team called {team.name!r}")
    return name


def create_team(db: Session, name: str) -> Team:
    """A new team with no members, keys or cases yet."""
    front_door(db)  # the first team made by hand never displaces the implicit front door
    team = Team(name=_checked_name(db, name))
    db.add(team)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise TeamError(f"there is already a team called {name!r}") from None
    return team


def rename_team(db: Session, team: Team, name: str) -> None:
    """Give a team a new name; its cases, keys and members stay."""
    team.name = _checked_name(db, name, other_than=team.id)
    db.commit()


def active_key_count(db: Session, team: Team) -> int:
    """How many active recipient keys the team has: what new items of its cases go to."""
    return int(
        db.scalar(
            select(func.count())
            .select_from(Recipient)
            .where(Recipient.team_id == team.id, Recipient.retired_at.is_(None))
        )
        or 0
    )


def make_front_door(db: Session, team: Team) -> None:
    """Send new reports to this team from now on. Cases already made keep their owner."""
    if active_key_count(db, team) == 0:
        raise TeamError(
            f"{team.name} has no active key, so nobody could read the reports it would receive: "
            "add its key on the Keys page first"
        )
    db.execute(update(Team).where(Team.id != team.id).values(is_front_door=False))
    team.is_front_door = True
    db.commit()


def teams_of(db: Session, staff: Staff) -> list[Team]:
    """The teams this staff member belongs to, by name."""
    return list(
        db.scalars(
            select(Team)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.staff_id == staff.id)
            .order_by(Team.name)
        )
    )


def team_ids_of(db: Session, staff_id: int) -> frozenset[int]:
    """The ids of this staff member's teams, in one query."""
    return frozenset(db.scalars(select(TeamMember.team_id).where(TeamMember.staff_id == staff_id)))


def members_of(db: Session, team: Team) -> list[Staff]:
    """The team's members, by username."""
    return list(
        db.scalars(
            select(Staff)
            .join(TeamMember, TeamMember.staff_id == Staff.id)
            .where(TeamMember.team_id == team.id)
            .order_by(Staff.username)
        )
    )


def set_teams(db: Session, staff: Staff, team_ids: set[int]) -> tuple[list[Team], list[Team]]:
    """Make these exactly the staff member's teams; return the teams (joined, left)."""
    known = {team.id: team for team in all_teams(db)}
    unknown = team_ids - set(known)
    if unknown:
        raise TeamError("a chosen team does not exist any more")
    current = team_ids_of(db, staff.id)
    joined = sorted(team_ids - current)
    left = sorted(current - team_ids)
    db.execute(
        delete(TeamMember).where(TeamMember.staff_id == staff.id, TeamMember.team_id.in_(left))
    )
    db.add_all(TeamMember(team_id=team_id, staff_id=staff.id) for team_id in joined)
    db.commit()
    return [known[team_id] for team_id in joined], [known[team_id] for team_id in left]


def add_member(db: Session, team: Team, staff: Staff) -> None:
    """Put a staff member in a team (nothing happens if they are in it already)."""
    set_teams(db, staff, set(team_ids_of(db, staff.id)) | {team.id})


def case_counts(db: Session) -> dict[int, int]:
    """How many cases each team owns, by team id."""
    rows = db.execute(
        select(Source.team_id, func.count())
        .where(Source.team_id.is_not(None))
        .group_by(Source.team_id)
    ).tuples()
    return {team_id: count for team_id, count in rows if team_id is not None}
