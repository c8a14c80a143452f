"""A source's items as one staff member sees them, and marking items seen."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seethesigns.models import Reply, SeenReply, SeenSubmission, Source, Staff, Submission
from seethesigns.replies import delete_reply
from seethesigns.storage import Store
from seethesigns.submissions import delete_submission
from seethesigns.teams.reach import Reach

DELETED_AUTHOR = "a deleted account"


def item_number(row: Submission | Reply) -> int:
    """An item's place in the conversation: the leading number of its stored name."""
    return int(row.filename.split("-", 1)[0])


@dataclass(frozen=True)
class Item:
    """A submission or reply as listed on a source's page."""

    row: Submission | Reply
    seen: bool
    author: str | None = None

    @property
    def number(self) -> int:
        """The item's place in the conversation."""
        return item_number(self.row)

    @property
    def kind_name(self) -> str:
        """The kind as staff read it: "Message", "File" or "Reply"."""
        return {"message": "Message", "document": "File", "reply": "Reply"}[self.kind]

    @property
    def kind(self) -> str:
        """ "message", "document" or "reply"."""
        if isinstance(self.row, Reply):
            return "reply"
        return "message" if self.row.is_message else "document"


def find_source(db: Session, source_uuid: str) -> Source | None:
    """The source with this public uuid, or None."""
    return db.scalar(select(Source).where(Source.uuid == source_uuid))


def items_of(db: Session, source: Source, staff: Staff, reach: Reach | None = None) -> list[Item]:
    """A source's submissions and replies this staff member may see, in order, seen or not.

    A team the case was only shared with sees the shared copies made for it, and no reply.
    """
    reach = reach or Reach.of(db, staff)
    submissions = db.execute(
        select(Submission, SeenSubmission.staff_id)
        .outerjoin(
            SeenSubmission,
            and_(
                SeenSubmission.submission_id == Submission.id, SeenSubmission.staff_id == staff.id
            ),
        )
        .where(Submission.source_id == source.id)
    )
    replies = db.execute(
        select(Reply, SeenReply.staff_id, Staff.username)
        .outerjoin(SeenReply, and_(SeenReply.reply_id == Reply.id, SeenReply.staff_id == staff.id))
        .outerjoin(Staff, Staff.id == Reply.staff_id)
        .where(Reply.source_id == source.id)
    )
    found = [
        Item(row, seen is not None)
        for row, seen in submissions
        if reach.sees_submission(source, row)
    ]
    if reach.sees_reply(source):
        found += [
            Item(row, seen is not None, author or DELETED_AUTHOR) for row, seen, author in replies
        ]
    return sorted(found, key=lambda item: item.number)


def find_item(
    db: Session, source: Source, item_uuid: str, reach: Reach
) -> Submission | Reply | None:
    """The submission or reply of this source with this uuid that they may see, or None."""
    submission = db.scalar(
        select(Submission).where(Submission.uuid == item_uuid, Submission.source_id == source.id)
    )
    if submission is not None:
        return submission if reach.sees_submission(source, submission) else None
    if not reach.sees_reply(source):
        return None
    return db.scalar(select(Reply).where(Reply.uuid == item_uuid, Reply.source_id == source.id))


def _record(db: Session, seen: SeenSubmission | SeenReply) -> None:
    key = seen.submission_id if isinstance(seen, SeenSubmission) else seen.reply_id
    if db.get(type(seen), (key, seen.staff_id)) is not None:
        return
    db.add(seen)
    try:
        db.commit()
    except IntegrityError:  # the same person's other download marked it a moment ago
        db.rollback()


def mark_seen(db: Session, staff: Staff, item: Submission | Reply) -> None:
    """Record that this staff member has seen the item (once; repeating is harmless)."""
    _record(
        db,
        SeenSubmission(submission_id=item.id, staff_id=staff.id)
        if isinstance(item, Submission)
        else SeenReply(reply_id=item.id, staff_id=staff.id),
    )


def mark_unseen(db: Session, staff: Staff, items: list[Submission | Reply]) -> None:
    """Take this staff member's seen mark off these items; others' marks stay."""
    submissions = [item.id for item in items if isinstance(item, Submission)]
    replies = [item.id for item in items if isinstance(item, Reply)]
    db.execute(
        delete(SeenSubmission).where(
            SeenSubmission.staff_id == staff.id, SeenSubmission.submission_id.in_(submissions)
        )
    )
    db.execute(
        delete(SeenReply).where(SeenReply.staff_id == staff.id, SeenReply.reply_id.in_(replies))
    )
    db.commit()


def mark_many_seen(db: Session, staff: Staff, submissions: list[int], replies: list[int]) -> None:
    """Record that this staff member has seen all these items, in one transaction if it can."""
    known_submissions = set(
        db.scalars(
            select(SeenSubmission.submission_id).where(
                SeenSubmission.staff_id == staff.id, SeenSubmission.submission_id.in_(submissions)
            )
        )
    )
    known_replies = set(
        db.scalars(
            select(SeenReply.reply_id).where(
                SeenReply.staff_id == staff.id, SeenReply.reply_id.in_(replies)
            )
        )
    )
    new: list[SeenSubmission | SeenReply] = [
        SeenSubmission(submission_id=id_, staff_id=staff.id)
        for id_ in set(submissions) - known_submissions
    ]
    new += [SeenReply(reply_id=id_, staff_id=staff.id) for id_ in set(replies) - known_replies]
    db.add_all(new)
    try:
        db.commit()
    except IntegrityError:  # marked or deleted meanwhile by another request: one at a time
        db.rollback()
        for seen in new:
            _record(db, seen)


def sources_by_uuid(db: Session, source_uuids: list[str], reach: Reach) -> list[Source]:
    """The sources with these uuids that exist for this staff member, by designation."""
    if not source_uuids:
        return []
    return list(
        db.scalars(
            select(Source)
            .where(Source.uuid.in_(source_uuids), reach.visible_sources())
            .order_by(Source.designation)
        )
    )


def items_by_uuid(
    db: Session, source: Source, item_uuids: list[str], reach: Reach
) -> list[Submission | Reply]:
    """This source's items with these uuids that they may see, in conversation order."""
    found: list[Submission | Reply] = [
        row
        for row in db.scalars(
            select(Submission).where(
                Submission.source_id == source.id, Submission.uuid.in_(item_uuids)
            )
        )
        if reach.sees_submission(source, row)
    ]
    if reach.sees_reply(source):
        found += db.scalars(
            select(Reply).where(Reply.source_id == source.id, Reply.uuid.in_(item_uuids))
        )
    return sorted(found, key=item_number)


def delete_items(
    db: Session, store: Store, source: Source, items: list[Submission | Reply]
) -> None:
    """Destroy these items' files, then their rows, one at a time."""
    for item in items:
        if isinstance(item, Submission):
            delete_submission(db, store, source, item)
        else:
            delete_reply(db, store, source, item)
