"""Which teams hold a case, and handing a case over to another team (issue 14).

A handover moves ownership: the new team sees the whole case and new items are encrypted to
its keys. What was encrypted before stays encrypted to the old team's keys; to let the new
team read it, the old team shares it from the workstation (seethesigns/teams/sharing.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seethesigns.models import Case, Source, Submission, Team, TeamMember
from seethesigns.models.base import utcnow
from seethesigns.teams.membership import TeamError, active_key_count, all_teams


@dataclass(frozen=True)
class SharedWith:
    """The copies of a case shared with one team."""

    team: Team
    copies: int


@dataclass(frozen=True)
class CaseTeams:
    """Who holds a case: its owner, the teams it was shared with, and where it could go."""

    owner: Team | None
    shared: list[SharedWith]
    others: list[Team]  # teams other than the owner, for a handover or a share


def case_teams(db: Session, source: Source) -> CaseTeams:
    """The owning team, the shares, and the other teams, in two queries."""
    teams = {team.id: team for team in all_teams(db)}
    counts = db.execute(
        select(Submission.shared_with_team_id, func.count())
        .where(Submission.source_id == source.id, Submission.shared_with_team_id.is_not(None))
        .group_by(Submission.shared_with_team_id)
    ).tuples()
    shared = [SharedWith(teams[team_id], n) for team_id, n in counts if team_id in teams]
    others = [team for team in teams.values() if team.id != source.team_id]
    return CaseTeams(teams.get(source.team_id or -1), shared, others)


def hand_over(db: Session, source: Source, team: Team) -> Team | None:
    """Make this team the case's owner; return the team that owned it before.

    Refused for a team with no active key: nobody could read what the young person sends
    next. The assignee stays only if they are a member of the new team.
    """
    if team.id == source.team_id:
        raise TeamError(f"{team.name} already owns this case")
    if active_key_count(db, team) == 0:
        raise TeamError(
            f"{team.name} has no active key, so nobody there could read what this young person "
            "sends next: an admin must add the team's key first"
        )
    before = db.get(Team, source.team_id) if source.team_id is not None else None
    source.team_id = team.id
    case = db.get(Case, source.id)
    if case is not None and case.assignee_id is not None:
        member = db.get(TeamMember, (team.id, case.assignee_id))
        if member is None:
            case.assignee_id = None
        case.updated_at = utcnow()
    db.commit()
    return before
