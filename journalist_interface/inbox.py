"""What one staff member sees: sources with their unread counts, and a source's items."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seethesigns.models import Reply, SeenReply, SeenSubmission, Source, Staff, Submission

DELETED_AUTHOR = "a deleted account"


@dataclass(frozen=True)
class SourceRow:
    """A source in the list, with how many of its items this staff member has not seen."""

    source: Source
    unread: int


@dataclass(frozen=True)
class Item:
    """A submission or reply as listed on a source's page."""

    row: Submission | Reply
    seen: bool
    author: str | None = None

    @property
    def number(self) -> int:
        """The item's place in the conversation: the leading number of its stored name."""
        return int(self.row.filename.split("-", 1)[0])

    @property
    def kind(self) -> str:
        """ "message", "document" or "reply"."""
        if isinstance(self.row, Reply):
            return "reply"
        return "message" if self.row.is_message else "document"


def list_sources(db: Session, staff: Staff) -> list[SourceRow]:
    """Every source, newest activity first, with unread counts, in one query."""
    unread_submissions = (
        select(Submission.source_id.label("source_id"))
        .outerjoin(
            SeenSubmission,
            and_(
                SeenSubmission.submission_id == Submission.id, SeenSubmission.staff_id == staff.id
            ),
        )
        .where(SeenSubmission.submission_id.is_(None))
    )
    # Replies by this staff member are not news to them; those of deleted accounts are.
    unread_replies = (
        select(Reply.source_id.label("source_id"))
        .outerjoin(SeenReply, and_(SeenReply.reply_id == Reply.id, SeenReply.staff_id == staff.id))
        .where(
            SeenReply.reply_id.is_(None), or_(Reply.staff_id.is_(None), Reply.staff_id != staff.id)
        )
    )
    unread = union_all(unread_submissions, unread_replies).subquery()
    counts = (
        select(unread.c.source_id, func.count().label("unread"))
        .group_by(unread.c.source_id)
        .subquery()
    )
    rows = db.execute(
        select(Source, func.coalesce(counts.c.unread, 0))
        .outerjoin(counts, counts.c.source_id == Source.id)
        .order_by(Source.last_updated.desc(), Source.id.desc())
    )
    return [SourceRow(source, int(count)) for source, count in rows]


def find_source(db: Session, source_uuid: str) -> Source | None:
    """The source with this public uuid, or None."""
    return db.scalar(select(Source).where(Source.uuid == source_uuid))


def items_of(db: Session, source: Source, staff: Staff) -> list[Item]:
    """A source's submissions and replies in conversation order, marked seen or not."""
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
    found = [Item(row, seen is not None) for row, seen in submissions]
    found += [
        Item(row, seen is not None, author or DELETED_AUTHOR) for row, seen, author in replies
    ]
    return sorted(found, key=lambda item: item.number)


def find_item(db: Session, source: Source, item_uuid: str) -> Submission | Reply | None:
    """The submission or reply of this source with this uuid, or None."""
    submission = db.scalar(
        select(Submission).where(Submission.uuid == item_uuid, Submission.source_id == source.id)
    )
    if submission is not None:
        return submission
    return db.scalar(select(Reply).where(Reply.uuid == item_uuid, Reply.source_id == source.id))


def mark_seen(db: Session, staff: Staff, item: Submission | Reply) -> None:
    """Record that this staff member has seen the item (once; repeating is harmless)."""
    seen: SeenSubmission | SeenReply = (
        SeenSubmission(submission_id=item.id, staff_id=staff.id)
        if isinstance(item, Submission)
        else SeenReply(reply_id=item.id, staff_id=staff.id)
    )
    if db.get(type(seen), (item.id, staff.id)) is not None:
        return
    db.add(seen)
    try:
        db.commit()
    except IntegrityError:  # the same person's other download marked it a moment ago
        db.rollback()
