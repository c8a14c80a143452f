"""What one staff member may see and do: their teams' cases, and what was shared with them.

- Admins reach everything.
- A member of the team that owns a case sees all of it: what the source sent, the replies,
  and may reply, hand it over or share from it. Shared copies made for other teams are not
  theirs to read (they are encrypted to the other team's keys); the case page lists them.
- A member of a team that a case was shared with sees that case with only the shared copies
  made for their team, and may download them and mark them seen; nothing else.
- Anyone else: the case does not exist for them (404, as for a case that never existed).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from seethesigns.models import Reply, Source, Staff, Submission
from seethesigns.teams.membership import team_ids_of

# The source an item belongs to, looked up apart from any Source the enclosing query joins.
OWNER = aliased(Source)


@dataclass(frozen=True)
class Reach:
    """One staff member's reach: everything (an admin), or their teams' ids."""

    everything: bool
    team_ids: frozenset[int]

    @classmethod
    def of(cls, db: Session, staff: Staff) -> Reach:
        """The reach of this staff member, in one query (none for an admin)."""
        if staff.is_admin:
            return cls(True, frozenset())
        return cls(False, team_ids_of(db, staff.id))

    @property
    def key(self) -> str:
        """The same for everyone who sees the same cases and items: "all", or their team ids."""
        return "all" if self.everything else ",".join(str(i) for i in sorted(self.team_ids))

    def owns(self, source: Source) -> bool:
        """True if they may work the case: reply, change it, hand it over, share from it."""
        return self.everything or source.team_id in self.team_ids

    def may_see(self, db: Session, source: Source) -> bool:
        """True if the case exists for them: owned, or something was shared with their team."""
        if self.owns(source):
            return True
        return bool(
            self.team_ids
            and db.scalar(
                select(
                    exists().where(
                        Submission.source_id == source.id,
                        Submission.shared_with_team_id.in_(self.team_ids),
                    )
                )
            )
        )

    def sees_submission(self, source: Source, item: Submission) -> bool:
        """True for a submission of this (visible) source that they may list and download."""
        if self.everything:
            return True
        if item.shared_with_team_id is None:
            return source.team_id in self.team_ids
        return item.shared_with_team_id in self.team_ids

    def sees_reply(self, source: Source) -> bool:
        """True if they may list the source's replies: only the owning team (and admins)."""
        return self.owns(source)

    # The same rules as SQL, for lists across sources.

    def owned_sources(self) -> ColumnElement[bool]:
        """Sources whose case they may work."""
        if self.everything:
            return true()
        return Source.team_id.in_(self.team_ids) if self.team_ids else false()

    def shared_sources(self) -> ColumnElement[bool]:
        """Sources something was shared with their teams from (admins: none needed)."""
        if self.everything or not self.team_ids:
            return false()
        # The few shared copies are found once from their index, and each source is looked up
        # among their sources: not a search of the source's submissions for every source.
        return Source.id.in_(
            select(Submission.source_id).where(Submission.shared_with_team_id.in_(self.team_ids))
        )

    def visible_sources(self) -> ColumnElement[bool]:
        """Sources that exist for them."""
        if self.everything:
            return true()
        return or_(self.owned_sources(), self.shared_sources())

    def visible_submissions(self) -> ColumnElement[bool]:
        """Submissions they may list, for a query where Submission is the subject."""
        if self.everything:
            return true()
        if not self.team_ids:
            return false()
        owned = exists().where(OWNER.id == Submission.source_id, OWNER.team_id.in_(self.team_ids))
        # A CASE, not the OR it means: SQLite answers an OR of two indexed terms by searching
        # the index for each, and "shared_with_team_id IS NULL" is nearly every submission, so
        # the unread counts of one page read all 200,000 at 50,000 sources (45 ms, not 1)
        # rather than the page's few by source_id (issue 16).
        return case(
            (Submission.shared_with_team_id.is_(None), owned),
            else_=Submission.shared_with_team_id.in_(self.team_ids),
        )

    def visible_replies(self) -> ColumnElement[bool]:
        """Replies they may list, for a query where Reply is the subject."""
        if self.everything:
            return true()
        if not self.team_ids:
            return false()
        return exists().where(OWNER.id == Reply.source_id, OWNER.team_id.in_(self.team_ids))
