"""The source list: filters, search, urgent then starred first, paged by keyset, three queries.

Paging is by keyset on (urgent, is_starred, last_updated, id), the order of the
ix_sources_list_order index, not by OFFSET: an offset makes the database walk and discard
every earlier row (and evaluate the unread filter for each), so page 1,000 would cost 1,000
times page 1. A keyset page starts with an index seek and stops after PAGE_SIZE + 1 rows,
whatever the page or the number of sources. SecureDrop's list of all sources grew too slow
with many (its issue #5183).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    String,
    and_,
    cast,
    exists,
    false,
    func,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from journalist_interface.list_query import Cursor, ListQuery
from journalist_interface.source_search import candidates, holds, scanned
from seethesigns.cases import NEW_STATUSES, STATUS_NAMES, labels_of
from seethesigns.models import (
    Case,
    CaseLabel,
    Reply,
    SeenReply,
    SeenSubmission,
    SharedCase,
    Source,
    Staff,
    Submission,
    UnreadSource,
)
from seethesigns.teams.reach import Reach

PAGE_SIZE = 50
# Up to this many sources matching a filter (unread, status, assigned, label), the list looks
# them up by id (a seek each, then a sort); beyond, it walks the list and stops at a page of
# them (dense enough to stop soon).
BY_ID = 2000
# The case row a filter looks at: apart from the one joined in to show each row's case.
FILTERED = aliased(Case)
# The list order, matching the ix_sources_list_order index read backwards; Cursor.values()
# gives a row's place in it.
LIST_KEY = tuple_(Source.urgent, Source.is_starred, Source.last_updated, Source.id)
# The same order among the cases shared with a team: ix_shared_cases_order, whose rows the
# database's triggers keep equal to their sources' (migration 0019).
SHARED_KEY = tuple_(
    SharedCase.urgent, SharedCase.is_starred, SharedCase.last_updated, SharedCase.source_id
)


@dataclass(frozen=True)
class SourceRow:
    """One source in the list, with what this staff member has not seen and its case."""

    id: int
    uuid: str
    designation: str
    urgent: bool
    is_starred: bool
    last_updated: datetime
    status: str
    assignee: str | None
    unread: int = 0
    labels: list[str] = field(default_factory=list)
    deleted_at: datetime | None = None

    @property
    def status_name(self) -> str:
        """The case status as shown."""
        return STATUS_NAMES[self.status]


@dataclass(frozen=True)
class SourcePage:
    """One page of the list and the cursors of its neighbours (None: there is none)."""

    rows: list[SourceRow]
    newer: Cursor | None
    older: Cursor | None

    @property
    def urgent(self) -> list[SourceRow]:
        """The rows a child marked urgent, which the order puts first (issue 13)."""
        return [row for row in self.rows if row.urgent]

    @property
    def starred(self) -> list[SourceRow]:
        """The starred rows, which come next."""
        return [row for row in self.rows if row.is_starred and not row.urgent]

    @property
    def others(self) -> list[SourceRow]:
        """The rest."""
        return [row for row in self.rows if not row.is_starred and not row.urgent]


def unseen_submission(staff_id: int) -> ColumnElement[bool]:
    """True for a submission this staff member has not seen."""
    return ~exists().where(
        SeenSubmission.submission_id == Submission.id, SeenSubmission.staff_id == staff_id
    )


def unseen_reply(staff_id: int) -> ColumnElement[bool]:
    """True for a reply this staff member has not seen; their own replies are not news."""
    return and_(
        or_(Reply.staff_id.is_(None), Reply.staff_id != staff_id),
        ~exists().where(SeenReply.reply_id == Reply.id, SeenReply.staff_id == staff_id),
    )


def _has_unread(staff_id: int, reach: Reach) -> ColumnElement[bool]:
    """True for a source with anything this staff member may see and has not (an EXISTS)."""
    return or_(
        exists().where(
            Submission.source_id == Source.id,
            unseen_submission(staff_id),
            reach.visible_submissions(),
        ),
        exists().where(
            Reply.source_id == Source.id, unseen_reply(staff_id), reach.visible_replies()
        ),
    )


@dataclass
class Filters:
    """The conditions a page's sources meet, and whether one of them names them by id."""

    conditions: list[ColumnElement[bool]]
    by_id: bool = False


def _by_id_or_walk(
    db: Session,
    filters: Filters,
    matching: Select[Any] | CompoundSelect,
    probe: ColumnElement[bool],
) -> int:
    """Only the sources whose ids `matching` selects, found the cheaper of two ways.

    Up to BY_ID of them, by their ids (a seek each, then a sort of those few); beyond, by a
    walk of the list in order that probes each source and stops after a page of them, which
    so many soon fill. Probing every source for a filter few match walked the whole list:
    13 to 17 ms at 50,000 sources for a status nobody has (issue 16). The ids come back as
    one row, counted and joined by the database: BY_ID + 1 rows took the ORM longer to read
    than the database to find. Returns how many it found, BY_ID + 1 meaning more.
    """
    first = matching.limit(BY_ID + 1).subquery()
    count, joined = db.execute(
        select(func.count(), func.aggregate_strings(cast(first.c.source_id, String), ","))
    ).one()
    if not count:  # a constant the database sees as such: an empty IN walked the whole list
        filters.conditions.append(false())
    elif count <= BY_ID:
        filters.conditions.append(Source.id.in_([int(id_) for id_ in joined.split(",")]))
        filters.by_id = True
    else:
        filters.conditions.append(probe)
    return int(count)


def _case_is(db: Session, filters: Filters, *conditions: ColumnElement[bool]) -> None:
    """Only sources whose case meets the conditions (found from the cases' indexes).

    When many do, an EXISTS rather than a filter on the joined row: the database then walks
    the list index in order and stops after a page of matches, instead of fetching every
    matching case and sorting them all (50 ms rather than 10 at 50,000 sources).
    """
    _by_id_or_walk(
        db,
        filters,
        select(FILTERED.source_id).where(*conditions),
        exists().where(FILTERED.source_id == Source.id, *conditions),
    )


def _search(db: Session, filters: Filters, text: str) -> None:
    """Only sources whose designation, a label or the case note holds the text.

    The candidates come from the search index (source_search.py), found like any filter's;
    each is then checked exactly. A text too short for the index is checked against every
    source the walk reaches, as before the index: it matches so many that the walk stops soon.
    """
    if "\x00" in text:  # no text holds one: PostgreSQL stores none, and refused the search
        filters.conditions.append(false())
        return
    found = candidates(db, text)
    if found is None:
        filters.conditions.append(scanned(text))
    elif 0 < _by_id_or_walk(db, filters, found, scanned(text)) <= BY_ID:
        filters.conditions.append(holds(text))


def _unread(db: Session, filters: Filters, staff_id: int, reach: Reach) -> None:
    """Only sources with something unseen, found from unread_sources, not by a walk.

    unread_sources (kept by the database's triggers, migration 0016) holds every source that
    may have news for them and a few that no longer do; each candidate is checked exactly.
    Without it the filter checked every source in the list for unseen items: 93 ms at 50,000
    sources when nearly all had been read (issue 16).
    """
    # Many candidates are probed as the list is walked, not an IN of them all: SQLite read an
    # IN of 50,000 candidates first and sorted them all (137 ms) rather than stop at a page.
    _by_id_or_walk(
        db,
        filters,
        select(UnreadSource.source_id).where(UnreadSource.staff_id == staff_id),
        exists().where(UnreadSource.staff_id == staff_id, UnreadSource.source_id == Source.id),
    )
    filters.conditions.append(_has_unread(staff_id, reach))


def _case_filters(db: Session, filters: Filters, query: ListQuery, staff: Staff) -> None:
    """The filters on a source's case: assigned to them, and its status."""
    wanted = [FILTERED.assignee_id == staff.id] if query.mine else []
    if query.status and query.status != "new":
        wanted.append(FILTERED.status == query.status)
    if wanted:
        _case_is(db, filters, *wanted)
    if query.status == "new":  # a source nobody has touched has no case row, and is new
        not_new = FILTERED.status.not_in(NEW_STATUSES)
        filters.conditions.append(~exists().where(FILTERED.source_id == Source.id, not_new))


def _labelled(db: Session, filters: Filters, label: str) -> None:
    """Only sources with this label (found from the labels' index when few have it)."""
    _by_id_or_walk(
        db,
        filters,
        select(CaseLabel.source_id).where(CaseLabel.label == label),
        exists().where(CaseLabel.source_id == Source.id, CaseLabel.label == label),
    )


def _filters(db: Session, query: ListQuery, staff: Staff, reach: Reach) -> Filters:
    # Codenames that never sent anything are not listed (issue 13); a day on they are purged.
    found = Filters([Source.interaction_count > 0])
    if query.search:
        _search(db, found, query.search)
    if query.starred:
        # Urgent or not, spelt out: the list indexes put urgent before is_starred, and SQLite
        # (no skip-scan without ANALYZE) then walked past every unstarred source for a page of
        # starred ones; now it seeks them under each value, in order (issue 16).
        starred = and_(Source.urgent.in_([True, False]), Source.is_starred.is_(True))
        found.conditions.append(starred)
    if query.unread:
        _unread(db, found, staff.id, reach)
    _case_filters(db, found, query, staff)
    if query.label:
        _labelled(db, found, query.label)
    return found


def _scopes(reach: Reach, filters: Filters, query: ListQuery) -> list[Select[tuple[int]]]:
    """The parts of the list this staff member sees, each to be read in order on its own index.

    An admin's list is one walk of the list index. A team member's is one walk per team, on
    the team index (team_id first), and one per team of the cases shared with it, on
    shared_cases' order index; the merge of the parts takes each source once. So a small
    team's page costs a seek, not a walk past every other team's cases (issue 14), and the
    shared cases cost one too: reading every shared case's id and sorting those sources took
    3.9 ms for the police's 500 at 50,000 sources, 0.17 at 100 (issue 16).

    When a filter names its few sources by id, those ids lead instead: the team is then
    compared as `team_id + 0`, which no index serves, and shared cases are looked up by each
    id. SQLite, taking a team for a few rows, walked the whole team's index checking each
    source against the ids (5 ms for 33 ids at 50,000 sources, not 0.3; issue 16).
    """
    found = filters.conditions
    if reach.everything:
        return [_in_order(select(Source.id).where(*found), LIST_KEY, query)]
    team = Source.team_id + 0 if filters.by_id else Source.team_id
    parts = [
        _in_order(select(Source.id).where(*found, team == team_id), LIST_KEY, query)
        for team_id in reach.team_ids
    ]
    if not reach.team_ids:
        return parts
    not_theirs = Source.team_id.not_in(reach.team_ids)  # theirs already, in a team's part
    if filters.by_id:
        shared = exists().where(
            SharedCase.source_id == Source.id, SharedCase.team_id.in_(reach.team_ids)
        )
        parts.append(
            _in_order(select(Source.id).where(*found, shared, not_theirs), LIST_KEY, query)
        )
        return parts
    for team_id in reach.team_ids:
        shared_with = (
            select(Source.id)
            .join(SharedCase, SharedCase.source_id == Source.id)
            .where(*found, SharedCase.team_id == team_id, not_theirs)
        )
        parts.append(_in_order(shared_with, SHARED_KEY, query))
    return parts


def _in_order(part: Select[tuple[int]], key: Any, query: ListQuery) -> Select[tuple[int]]:
    """The part's first PAGE_SIZE + 1 rows from the query's cursor on, in key's index order.

    Each part compares the cursor with the columns of the index it reads, its own copy of the
    list order for shared cases, so the database seeks to it there.
    """
    if query.before is not None:  # towards the top: read the order backwards
        return (
            part.where(query.before.values() < key)
            .order_by(*(column.asc() for column in key.clauses))
            .limit(PAGE_SIZE + 1)
        )
    if query.after is not None:
        part = part.where(query.after.values() > key)
    return part.order_by(*(column.desc() for column in key.clauses)).limit(PAGE_SIZE + 1)


def _sort_key(row: Any) -> tuple[bool, bool, datetime, int]:
    return (row.urgent, row.is_starred, row.last_updated, row.id)


def _page_rows(db: Session, query: ListQuery, staff: Staff, reach: Reach) -> tuple[list[Any], bool]:
    """Up to PAGE_SIZE rows from the cursor on, and whether more lie beyond them.

    One query: each part of the list (_scopes) gives the ids of its first PAGE_SIZE + 1
    matches from its index alone, and only the page the merged ids make is read in full and
    joined to its case. Joining first read every shared case's row and case before sorting
    them (5 ms for the police's 500 at 50,000 sources, issue 16).
    """
    backwards = query.before is not None
    filters = _filters(db, query, staff, reach)
    parts = [part.subquery() for part in _scopes(reach, filters, query)]
    if not parts:
        return [], False
    # A case shared with two of their teams is in both teams' parts: it is taken once below.
    # (A UNION would take it once too, but through a temporary B-tree of every part's rows.)
    page = union_all(*(part.select() for part in parts)).subquery()
    found_rows = db.execute(
        select(
            Source.id,
            Source.uuid,
            Source.designation,
            Source.urgent,
            Source.is_starred,
            Source.last_updated,
            Source.deleted_at,
            Case.status,
            func.coalesce(Staff.display_name, Staff.username).label("assignee"),
        )
        .join(page, page.c.id == Source.id)
        .outerjoin(Case, Case.source_id == Source.id)
        .outerjoin(Staff, Staff.id == Case.assignee_id)
    )
    # The parts' few rows (PAGE_SIZE + 1 at most each) are merged here, so the database
    # sorts nothing at all: each part reads its index in order.
    once = {row.id: row for row in found_rows}.values()
    rows = sorted(once, key=_sort_key, reverse=not backwards)
    if backwards:
        return rows[:PAGE_SIZE][::-1], len(rows) > PAGE_SIZE
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def unread_counts(db: Session, staff: Staff, reach: Reach, source_ids: list[int]) -> dict[int, int]:
    """How many items of each of these sources this staff member may see and has not seen."""
    if not source_ids:
        return {}
    unread = union_all(
        select(Submission.source_id.label("source_id")).where(
            Submission.source_id.in_(source_ids),
            unseen_submission(staff.id),
            reach.visible_submissions(),
        ),
        select(Reply.source_id.label("source_id")).where(
            Reply.source_id.in_(source_ids), unseen_reply(staff.id), reach.visible_replies()
        ),
    ).subquery()
    rows = db.execute(
        select(unread.c.source_id, func.count()).group_by(unread.c.source_id)
    ).tuples()
    return {source_id: count for source_id, count in rows}


def _cursor(row: Any) -> Cursor:
    return Cursor(row.urgent, row.is_starred, row.last_updated, row.id)


def source_page(
    db: Session, staff: Staff, query: ListQuery, reach: Reach | None = None
) -> SourcePage:
    """One page of the list, with unread counts and labels: a few queries, whatever the size.

    Three for an admin; a team member's list first reads their teams; the search, unread,
    status or assigned, and label filters each read one more, to find how many sources they
    match (_by_id_or_walk).
    """
    reach = reach or Reach.of(db, staff)
    rows, more = _page_rows(db, query, staff, reach)
    ids = [row.id for row in rows]
    unread = unread_counts(db, staff, reach, ids)
    labels = labels_of(db, ids)
    listed = [
        SourceRow(
            row.id,
            row.uuid,
            row.designation,
            row.urgent,
            row.is_starred,
            row.last_updated,
            row.status or "new",
            row.assignee,
            unread.get(row.id, 0),
            labels.get(row.id, []),
            row.deleted_at,
        )
        for row in rows
    ]
    paged_back = query.before is not None
    newer = (more if paged_back else query.after is not None) and bool(rows)
    older = (True if paged_back else more) and bool(rows)
    return SourcePage(
        listed,
        _cursor(rows[0]) if newer else None,
        _cursor(rows[-1]) if older else None,
    )
