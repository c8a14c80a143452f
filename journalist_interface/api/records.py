"""What the API reads and changes in the database, in a fixed number of queries per request.

Listing endpoints must stay fast at 50,000 sources (SecureDrop's get-all-sources was not, its
issue #5183): each list is one query for the rows plus at most one for who has seen them,
never a query per row, and only the columns the JSON needs are loaded.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, case, delete, func, literal, select, type_coerce, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seethesigns.models import Reply, SeenReply, SeenSubmission, Source, Staff, Submission
from seethesigns.storage import Store
from seethesigns.teams.reach import Reach

MESSAGE_NAME = "%-msg.gpg"
DOCUMENT_NAME = "%-doc.gz.gpg"


@dataclass(frozen=True)
class SourceRecord:
    """A source as the API shows it, with its message and document counts."""

    uuid: str
    designation: str
    fingerprint: str
    public_key: str
    interaction_count: int
    is_starred: bool
    last_updated: datetime
    messages: int
    documents: int
    id: int = 0


@dataclass(frozen=True)
class Author:
    """The staff member who wrote a reply."""

    uuid: str
    username: str
    display_name: str | None


@dataclass(frozen=True)
class ItemRecord:
    """A submission or reply as the API shows it; author is None for a deleted account."""

    source_uuid: str
    uuid: str
    filename: str
    size: int
    seen_by: list[str]
    author: Author | None = None
    deleted_by_source: bool = False


def _visible_counts(reach: Reach, ids: list[int] | None) -> Any:
    """Per source (of ids, or all), how many messages and documents this staff member may see."""
    query = select(
        Submission.source_id,
        func.sum(case((Submission.filename.like(MESSAGE_NAME), 1), else_=0)).label("msgs"),
        func.sum(case((Submission.filename.like(DOCUMENT_NAME), 1), else_=0)).label("docs"),
    ).where(reach.visible_submissions())
    if ids is not None:
        query = query.where(Submission.source_id.in_(ids))
    return query.group_by(Submission.source_id).subquery()


def source_stamps(reach: Reach) -> Select[Any]:
    """Every listed source's stamp, in list order (source_records'), from one small index.

    What journalist_interface/api/source_fragments.py checks its kept JSON against: every
    column the JSON shows but the key (whose fingerprint is here), and the version the
    database's triggers bump when the source's submissions change (so the counts need no
    counting). Read from ix_sources_api_stamp, never the wide rows; last_updated is read raw
    (SQLite's text, PostgreSQL's datetime): parsing 50,000 of them took a tenth of a second.

    In the index's order, the urgent last: a mixed order (urgent DESC, id) made SQLite sort
    half of it. in_list_order() puts them first.
    """
    return (
        select(
            Source.urgent,
            Source.id,
            Source.uuid,
            Source.team_id,
            Source.submissions_version,
            Source.interaction_count,
            Source.is_starred,
            type_coerce(Source.last_updated, String).label("stamp_updated"),
            Source.pgp_fingerprint,
        )
        .where(reach.visible_sources(), Source.interaction_count > 0)
        .order_by(Source.urgent, Source.id)
    )


# Where source_stamps' columns are in its rows (read as plain tuples).
STAMP_URGENT, STAMP_ID = 0, 1


def in_list_order(stamps: Sequence[Any]) -> list[Any]:
    """Stamps read by source_stamps, urgent first as in source_records (each part by id)."""
    first_urgent = bisect.bisect_left(stamps, True, key=lambda row: bool(row[STAMP_URGENT]))
    return [*stamps[first_urgent:], *stamps[:first_urgent]]


def source_records(
    db: Session, reach: Reach, source_uuid: str | None = None, ids: Iterable[int] | None = None
) -> list[SourceRecord]:
    """Sources that have sent something (all, the one with source_uuid, or those of ids),
    urgent first, in one query.

    A source who has only made a codename is left out of the list, as SecureDrop leaves out
    its "pending" sources; asked for by uuid, it is shown. Only the sources and submissions
    that exist for this staff member are counted and listed (issue 14).
    """
    wanted = None if ids is None else list(ids)
    counts = _visible_counts(reach, wanted)
    query = (
        select(
            Source.id,
            Source.uuid,
            Source.designation,
            Source.pgp_fingerprint,
            Source.pgp_public_key,
            Source.interaction_count,
            Source.is_starred,
            Source.last_updated,
            func.coalesce(counts.c.msgs, 0),
            func.coalesce(counts.c.docs, 0),
        )
        .outerjoin(counts, counts.c.source_id == Source.id)
        # Urgent first, as in the staff list (issue 13); clients that sort for themselves
        # lose nothing, and the order within each part stays the old one.
        .where(reach.visible_sources())
        .order_by(Source.urgent.desc(), Source.id)
    )
    if source_uuid is None:
        query = query.where(Source.interaction_count > 0)
    else:
        query = query.where(Source.uuid == source_uuid)
    if wanted is not None:
        query = query.where(Source.id.in_(wanted))
    return [
        SourceRecord(uuid, name, fpr, key, count, starred, updated, int(msgs), int(docs), id_)
        for id_, uuid, name, fpr, key, count, starred, updated, msgs, docs in db.execute(query)
    ]


def _seen_by(db: Session, query: Select[Any]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for item_id, staff_uuid in db.execute(query):
        found[item_id].append(staff_uuid)
    return found


def submission_records(
    db: Session,
    reach: Reach,
    source: Source | None = None,
    submission: Submission | None = None,
) -> list[ItemRecord]:
    """Submissions (all, one source's, or one) they may see, with who has seen each."""
    rows = select(Submission.id, Source.uuid, Submission.uuid, Submission.filename, Submission.size)
    rows = rows.join(Source, Source.id == Submission.source_id).order_by(Submission.id)
    rows = rows.where(reach.visible_submissions())
    seen = select(SeenSubmission.submission_id, Staff.uuid).join(
        Staff, Staff.id == SeenSubmission.staff_id
    )
    # The staff id breaks ties: a strong Etag promises the same bytes every time.
    seen = seen.order_by(SeenSubmission.seen_at, SeenSubmission.staff_id)
    if submission is not None:
        rows = rows.where(Submission.id == submission.id)
        seen = seen.where(SeenSubmission.submission_id == submission.id)
    elif source is not None:
        rows = rows.where(Submission.source_id == source.id)
        seen = seen.join(Submission, Submission.id == SeenSubmission.submission_id).where(
            Submission.source_id == source.id
        )
    seen_by = _seen_by(db, seen)
    return [
        ItemRecord(s_uuid, uuid, name, size, seen_by[id_])
        for id_, s_uuid, uuid, name, size in db.execute(rows)
    ]


def reply_records(
    db: Session, reach: Reach, source: Source | None = None, reply: Reply | None = None
) -> list[ItemRecord]:
    """Replies (all, one source's, or one) they may see, with author and who has seen each."""
    rows = select(
        Reply.id,
        Source.uuid,
        Reply.uuid,
        Reply.filename,
        Reply.size,
        Reply.deleted_by_source,
        Staff.uuid,
        Staff.username,
        Staff.display_name,
    )
    rows = rows.join(Source, Source.id == Reply.source_id).outerjoin(
        Staff, Staff.id == Reply.staff_id
    )
    rows = rows.order_by(Reply.id).where(reach.visible_replies())
    seen = select(SeenReply.reply_id, Staff.uuid).join(Staff, Staff.id == SeenReply.staff_id)
    seen = seen.order_by(SeenReply.seen_at, SeenReply.staff_id)
    if reply is not None:
        rows = rows.where(Reply.id == reply.id)
        seen = seen.where(SeenReply.reply_id == reply.id)
    elif source is not None:
        rows = rows.where(Reply.source_id == source.id)
        seen = seen.join(Reply, Reply.id == SeenReply.reply_id).where(Reply.source_id == source.id)
    seen_by = _seen_by(db, seen)
    return [
        ItemRecord(
            s_uuid,
            uuid,
            name,
            size,
            seen_by[id_],
            Author(a_uuid, username, display) if a_uuid is not None else None,
            hidden,
        )
        for id_, s_uuid, uuid, name, size, hidden, a_uuid, username, display in db.execute(rows)
    ]


def find_submission(
    db: Session, source: Source, submission_uuid: str, reach: Reach
) -> Submission | None:
    """This source's submission with this uuid, if they may see it; another source's is not
    found."""
    found = db.scalar(
        select(Submission).where(
            Submission.uuid == submission_uuid, Submission.source_id == source.id
        )
    )
    return found if found is not None and reach.sees_submission(source, found) else None


def find_reply(db: Session, source: Source, reply_uuid: str, reach: Reach) -> Reply | None:
    """This source's reply with this uuid, if they may see it; another source's is not found."""
    if not reach.sees_reply(source):
        return None
    return db.scalar(select(Reply).where(Reply.uuid == reply_uuid, Reply.source_id == source.id))


def submissions_by_uuid(db: Session, uuids: Iterable[str], reach: Reach) -> dict[str, Submission]:
    """The submissions with these uuids that they may see, by uuid."""
    wanted = set(uuids)
    if not wanted:
        return {}
    found = db.scalars(
        select(Submission).where(Submission.uuid.in_(wanted), reach.visible_submissions())
    )
    return {item.uuid: item for item in found}


def replies_by_uuid(db: Session, uuids: Iterable[str], reach: Reach) -> dict[str, Reply]:
    """The replies with these uuids that they may see, by uuid."""
    wanted = set(uuids)
    if not wanted:
        return {}
    found = db.scalars(select(Reply).where(Reply.uuid.in_(wanted), reach.visible_replies()))
    return {item.uuid: item for item in found}


def mark_seen(
    db: Session, staff: Staff, submissions: Iterable[Submission], replies: Iterable[Reply]
) -> None:
    """Record that staff has seen these items, all in one transaction; repeats are harmless."""
    submission_ids = {item.id for item in submissions}
    reply_ids = {item.id for item in replies}
    for _ in range(2):  # a second pass if a concurrent request marked one of them meanwhile
        done_submissions = set(
            db.scalars(
                select(SeenSubmission.submission_id).where(
                    SeenSubmission.staff_id == staff.id,
                    SeenSubmission.submission_id.in_(submission_ids),
                )
            )
        )
        done_replies = set(
            db.scalars(
                select(SeenReply.reply_id).where(
                    SeenReply.staff_id == staff.id, SeenReply.reply_id.in_(reply_ids)
                )
            )
        )
        db.add_all(
            SeenSubmission(submission_id=id_, staff_id=staff.id)
            for id_ in submission_ids - done_submissions
        )
        db.add_all(SeenReply(reply_id=id_, staff_id=staff.id) for id_ in reply_ids - done_replies)
        try:
            db.commit()
            return
        except IntegrityError:
            db.rollback()
    raise RuntimeError("could not record seen items")


def set_starred(db: Session, source: Source, starred: bool) -> None:
    """Star or unstar a source for the whole team."""
    db.execute(update(Source).where(Source.id == source.id).values(is_starred=starred))
    db.commit()


def delete_conversation(db: Session, store: Store, source: Source) -> None:
    """Destroy every submission and reply of a source, keeping the source and its key."""
    for table in (Submission, Reply):
        names = list(db.scalars(select(table.filename).where(table.source_id == source.id)))
        for name in names:
            store.destroy(store.path(source.filesystem_id, name))
        db.execute(delete(table).where(table.source_id == source.id))
    source.urgent = False  # nothing left that the child marked urgent
    db.commit()


def all_staff(db: Session) -> list[Staff]:
    """Every staff account, oldest first."""
    return list(db.scalars(select(Staff).order_by(Staff.id)))


def has_replies_of_deleted_staff(db: Session) -> bool:
    """Whether some reply's author account has been deleted."""
    return bool(db.scalar(select(literal(True)).where(Reply.staff_id.is_(None)).limit(1)))
