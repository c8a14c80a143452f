"""What staff keep when a young person deletes their account (issue 13).

The account goes: the reply keypair, the codename-derived filesystem_id and every reply. What
stays is a content-free stub for the safeguarding record: the designation, the case (status,
assignee, labels, note) and the date and kind of every item. Items nobody on the staff has
downloaded yet stay too, still encrypted to the submission key, until someone downloads them
once or retention removes them: a follow-up the child sent just before deleting must not be
lost unread.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from seethesigns.db import forget_deleted
from seethesigns.models import RecordedItem, Reply, Source, Submission
from seethesigns.models.base import utcnow
from seethesigns.sources import delete_source
from seethesigns.storage import Store
from seethesigns.submissions import delete_submission


def _item_number(filename: str) -> int:
    return int(filename.split("-", 1)[0])


def _stub_id() -> str:
    """A random folder name in the filesystem_id alphabet: nothing a codename derives."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def delete_account(db: Session, store: Store, source: Source, now: datetime | None = None) -> None:
    """The source deletes their account: keep a stub if they ever sent or got anything."""
    if source.interaction_count == 0:  # nothing to keep: a codename that never sent anything
        delete_source(db, store, source)
        return
    submissions = list(db.scalars(select(Submission).where(Submission.source_id == source.id)))
    replies = list(db.scalars(select(Reply).where(Reply.source_id == source.id)))
    kept = [item for item in submissions if item.downloaded_at is None]
    gone: list[Submission | Reply] = [item for item in submissions if item not in kept]
    gone += replies
    everything: list[Submission | Reply] = [*submissions, *replies]
    # Files before rows, as everywhere: a crash leaves rows without files, never the reverse.
    for item in gone:
        store.destroy(store.path(source.filesystem_id, item.filename))
    new_id = _stub_id()
    if kept:
        store.move_source(source.filesystem_id, new_id)  # under a name nothing derives
    store.destroy_source(source.filesystem_id)  # whatever is left, when nothing is kept
    db.add_all(
        RecordedItem(
            source_id=source.id,
            number=_item_number(item.filename),
            kind=_kind(item),
            created_at=item.created_at,
        )
        for item in everything
    )
    for model in (Submission, Reply):
        doomed = [item.id for item in gone if isinstance(item, model)]
        db.execute(delete(model).where(model.id.in_(doomed)))
    db.execute(
        update(Source)
        .where(Source.id == source.id)
        .values(
            filesystem_id=new_id,
            pgp_fingerprint="",
            pgp_public_key="",
            pgp_secret_key="",
            deleted_at=now or utcnow(),
        )
    )
    db.commit()
    forget_deleted(db)  # the keys and old id are still in the WAL until then


def _kind(item: Submission | Reply) -> str:
    if isinstance(item, Reply):
        return "reply"
    return "message" if item.is_message else "document"


def recorded_items(db: Session, source: Source) -> list[RecordedItem]:
    """The dates and kinds of a deleted account's items, in conversation order."""
    return list(
        db.scalars(
            select(RecordedItem)
            .where(RecordedItem.source_id == source.id)
            .order_by(RecordedItem.number)
        )
    )


def record_download(db: Session, item: Submission | Reply) -> None:
    """Note the first download of a submission by anyone; it does not make the item seen."""
    if isinstance(item, Submission) and item.downloaded_at is None:
        db.execute(
            update(Submission)
            .where(Submission.id == item.id, Submission.downloaded_at.is_(None))
            .values(downloaded_at=utcnow())
        )
        db.commit()


def record_exported(db: Session, store: Store, submission_ids: list[int]) -> None:
    """These submissions went out in a zip: note first downloads, destroy deleted accounts'."""
    db.execute(
        update(Submission)
        .where(Submission.id.in_(submission_ids), Submission.downloaded_at.is_(None))
        .values(downloaded_at=utcnow())
    )
    db.commit()
    kept = db.execute(
        select(Submission, Source)
        .join(Source, Source.id == Submission.source_id)
        .where(Submission.id.in_(submission_ids), Source.deleted_at.is_not(None))
    ).all()
    for item, source in kept:
        delete_submission(db, store, source, item)


def destroy_if_kept_only_for_download(
    db: Session, store: Store, source: Source, item: Submission | Reply
) -> bool:
    """Once downloaded, destroy an item of a deleted account; True if it was destroyed."""
    if source.deleted_at is None or not isinstance(item, Submission):
        return False
    delete_submission(db, store, source, item)
    return True
